/*
 * regex_class.h — the bytes a regex's matches can contain (see regex_class.c).
 */
#ifndef LW_REGEX_CLASS_H
#define LW_REGEX_CLASS_H

#include <stdbool.h>
#include <stdint.h>

/* Fill cls (a 256-bit set) with every byte a match of re can contain. False when the regex
 * uses something this reader does not understand (then cls means nothing). */
bool lw_regex_byte_class(const char *re, bool caseless, uint8_t cls[32]);
unsigned lw_byte_class_count(const uint8_t cls[32]);
/* Length of the literal every match starts with (the shortest over alternatives, looking into
 * a leading group); 0 when a match can start with a class. A regex led by a literal is
 * already cheap for Hyperscan. */
unsigned lw_regex_lead_literal(const char *re);

#endif
