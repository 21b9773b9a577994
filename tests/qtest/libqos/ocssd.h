/*
 * libqos driver for the ocssd device
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef LIBQOS_OCSSD_H
#define LIBQOS_OCSSD_H

#include "pci.h"
#include "qgraph.h"

typedef struct QOcssd {
    QOSGraphObject obj;
    QPCIDevice dev;
} QOcssd;

#endif
