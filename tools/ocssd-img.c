/*
 * ocssd-img: create, inspect and check ocssd media images
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "hw/block/ocssd-image.h"

int main(int argc, char **argv)
{
    fprintf(stderr, "ocssd-img: not implemented yet\n");
    return 1;
}
