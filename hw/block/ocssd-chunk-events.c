/*
 * ocssd: chunk events - what happens to a chunk outside the host's rules
 *
 * The one home of the events the media raises about its chunks, below
 * the command code that triggers them (ocssd-io.c, ocssd-fault.c): a
 * chunk going offline, a wear index leaving the band average +- WIT, and
 * the Chunk Notification log (D0h) entry with its asynchronous event that
 * each of them, and every failed or high-ECC read or write, adds.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "ocssd.h"
#include "trace.h"

/*
 * A notification log entry (digest section 5) and its vendor-specific
 * asynchronous event.
 */
void ocssd_chunk_notify(OcssdCtrl *n, uint64_t lba, uint16_t state,
                        uint8_t mask, uint16_t nlb)
{
    trace_ocssd_chunk_notify(lba, state, mask);
    ocssd_notify_add(&n->media.notify, lba, OCSSD_NSID, state, mask, nlb);
    ocssd_aer_enqueue(n, NVME_AER_TYPE_VENDOR_SPECIFIC,
                      OCSSD_AER_INFO_CHUNK_NOTIFICATION,
                      OCSSD_LOG_CHUNK_NOTIFICATION);
}

/* Notify every chunk whose wear index has left the band average +- WIT. */
void ocssd_chunk_wli_notify(OcssdCtrl *n)
{
    uint64_t chunk;

    while (ocssd_media_wli_event(&n->media, &chunk)) {
        ocssd_chunk_notify(n, ocssd_chunk_slba(&n->media, chunk),
                           OCSSD_NOTIFY_WLI, OCSSD_NOTIFY_MASK_CHUNK, 0);
    }
}

/*
 * A chunk fails (digest section 4: any state -> OFFLINE), with its notice.
 * It leaves the wear statistics, which moves the average: the chunks that
 * move out of the band average +- WIT with it are notified now.
 */
void ocssd_chunk_offline(OcssdCtrl *n, uint64_t chunk, const char *why)
{
    OcssdMedia *m = &n->media;

    trace_ocssd_chunk_offline(chunk, why);
    ocssd_media_set_offline(m, chunk);
    ocssd_store_chunk_changed(n, chunk);
    ocssd_chunk_notify(n, ocssd_chunk_slba(m, chunk),
                       OCSSD_NOTIFY_ERR_UNRECOVERABLE, OCSSD_NOTIFY_MASK_CHUNK,
                       0);
    ocssd_chunk_wli_notify(n);
}
