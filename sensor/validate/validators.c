/*
 * validators.c — the validator registry: names <-> ids (the `validate:` key of a signature)
 * and the dispatch the matcher calls for each candidate.
 *
 * EDM ("edm:NAME") is only named here: the matcher resolves the list itself, so
 * lw_validate() answers false for it rather than guessing.
 */
#include "leakwatch/validate.h"

#include <string.h>

static const char *const names[LW_VALIDATE__COUNT] = {
    [LW_VALIDATE_NONE] = "none",
    [LW_VALIDATE_VIN] = "vin",
    [LW_VALIDATE_LUHN] = "luhn",
    [LW_VALIDATE_AWS_KEY_ID] = "aws_key_id",
    [LW_VALIDATE_GITHUB_TOKEN] = "github_token",
    [LW_VALIDATE_IBAN] = "iban",
    [LW_VALIDATE_JP_MY_NUMBER] = "jp_my_number",
    [LW_VALIDATE_EMAIL] = "email",
    [LW_VALIDATE_LAT_LON] = "lat_lon",
    [LW_VALIDATE_EDM] = "edm",
};

/* NAME of "edm:NAME": [A-Za-z0-9_-]+ */
static bool edm_name_ok(const char *s)
{
    if (*s == '\0') return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

lw_validator_id lw_validator_lookup(const char *name)
{
    if (name == NULL) return LW_VALIDATE__COUNT;
    if (strncmp(name, "edm:", 4) == 0)
        return edm_name_ok(name + 4) ? LW_VALIDATE_EDM : LW_VALIDATE__COUNT;
    /* "none" and a bare "edm" are not names a signature may write */
    for (int id = LW_VALIDATE_NONE + 1; id < LW_VALIDATE_EDM; id++)
        if (strcmp(name, names[id]) == 0) return (lw_validator_id)id;
    return LW_VALIDATE__COUNT;
}

const char *lw_validator_name(lw_validator_id id)
{
    if ((int)id < 0 || id >= LW_VALIDATE__COUNT) return "unknown";
    return names[id];
}

bool lw_validate(lw_validator_id id, const uint8_t *s, size_t n, lw_validate_extra *extra)
{
    if (extra) extra->aws_account[0] = '\0';
    if (s == NULL && n != 0) return false;
    switch (id) {
    case LW_VALIDATE_NONE:
        return true;
    case LW_VALIDATE_VIN:
        return lw_validate_vin(s, n);
    case LW_VALIDATE_LUHN:
        return lw_validate_luhn(s, n);
    case LW_VALIDATE_AWS_KEY_ID:
        return lw_validate_aws_key_id(s, n, extra);
    case LW_VALIDATE_GITHUB_TOKEN:
        return lw_validate_github_token(s, n);
    case LW_VALIDATE_IBAN:
        return lw_validate_iban(s, n);
    case LW_VALIDATE_JP_MY_NUMBER:
        return lw_validate_jp_my_number(s, n);
    case LW_VALIDATE_EMAIL:
        return lw_validate_email(s, n);
    case LW_VALIDATE_LAT_LON:
        return lw_validate_lat_lon(s, n);
    case LW_VALIDATE_EDM: /* the matcher looks the value up in the list */
    case LW_VALIDATE__COUNT:
    default:
        return false;
    }
}
