/*
 * decode-vlan.c — 802.1Q (0x8100), 802.1ad (0x88a8) and legacy QinQ (0x9100, 0x9200) tags,
 * any number of them, at any layer (also inside tunnels).
 */
#include "decode_internal.h"

void lw_dec_push_vlan(lw_dctx *c, uint16_t vid)
{
    lw_packet *p = c->p;
    LW_DCOUNT(c, vlan);
    if (p->vlan_count < LW_MAX_VLAN)
        p->vlan[p->vlan_count] = vid;
    else
        LW_DCOUNT(c, vlan_beyond_max);
    if (p->vlan_count < UINT8_MAX) p->vlan_count++;
    c->frag_ctx = lw_dec_mix(c->frag_ctx, 0x10000u | vid);
}

/* Tags of any depth: every tag counts in vlan_count, the first LW_MAX_VLAN ids are kept. */
lw_dres lw_dec_vlan(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    for (;;) {
        if (len < 4) return LW_DFAIL(c, vlan_truncated);
        uint16_t vid = lw_rd16(d) & 0x0fff;
        uint16_t next = lw_rd16(d + 2);
        lw_dec_push_vlan(c, vid);
        d += 4;
        len -= 4;
        if (!lw_dec_is_vlan_tpid(next)) return lw_dec_ethertype(c, next, d, len);
    }
}
