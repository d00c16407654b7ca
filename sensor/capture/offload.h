/*
 * offload.h — finds the NIC offloads that make a live capture see something other than the
 * frames on the wire (GRO/LRO merge received segments, TSO/GSO hand the capture one huge
 * segment the NIC splits later), so the operator can be told at start-up.
 */
#ifndef LW_OFFLOAD_H
#define LW_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
    LW_OFFLOAD_GRO = 1u << 0,
    LW_OFFLOAD_LRO = 1u << 1,
    LW_OFFLOAD_TSO = 1u << 2,
    LW_OFFLOAD_GSO = 1u << 3,
};

/* The offloads on for iface (a mask of LW_OFFLOAD_*); those the driver cannot report are
 * taken as off. Returns false (mask 0) when the interface cannot be asked at all. */
bool lw_offload_query(const char *iface, unsigned *mask);

/* Writes "gro, tso" for mask into buf (always NUL-terminated). */
void lw_offload_names(unsigned mask, char *buf, size_t len);

/* One warning line on fp when iface has any of them on, naming them and the ethtool command
 * that turns them off. Returns the mask found. */
unsigned lw_offload_warn(const char *iface, FILE *fp);

#endif
