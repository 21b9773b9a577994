# ocssd - top-level Makefile
#
#   make            build QEMU (with the ocssd device), qemu-img, ocssd-img
#                   and the tests, for every QEMU chosen by ./configure
#   make check      build, then run every test; ends with "N passed, M failed"
#   make check-quick  the same without the Linux guest tests
#   make guest-check  only the Linux guest tests (the tiny guest's, then
#                   the lightnvm/pblk guest's)
#   make demo       build, then boot a tiny Linux guest on an ocssd device
#   make bench      build, then benchmark ocssd against QEMU's nvme (same
#                   LBA format, A/A control, BENCH_ROUNDS rounds, 3 by
#                   default), the scale curve and the timing model's
#                   numbers (scripts/bench: build/bench/<date>/results.json,
#                   .csv, bench.svg), then a per-PU heat map
#   make fuzz       build, then fuzz the device for FUZZ_SECONDS (600) on the
#                   fuzz build (--qemu=10.0-fuzz); corpus in build/fuzz/;
#                   FUZZ_FLAGS: more libFuzzer options
#   make install    install the first configured build to the prefix
#   make clean      remove build products (keeps ./configure's choices)
#   make distclean  remove build/ entirely
#
# The QEMU source cache (~/.cache/ocssd) and ccache survive both cleans.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

.DEFAULT_GOAL := all

-include $(TOP)/build/config.mak

# No configuration yet: configure with the defaults.
$(TOP)/build/config.mak:
	cd $(TOP) && ./configure

PRIMARY := $(firstword $(OCSSD_BUILDS))
# The libFuzzer build (10.0-fuzz), if configured, and how long 'make fuzz' runs.
FUZZ_BUILD := $(firstword $(filter %-fuzz,$(OCSSD_BUILDS)))
FUZZ_SECONDS ?= 600
BENCH_ROUNDS ?= 3

build_env = OCSSD_QEMU_SRC='$(OCSSD_QEMU_SRC_$(1))' \
	OCSSD_MESON_PATH='$(OCSSD_MESON_PATH_$(1))' \
	OCSSD_PREFIX='$(OCSSD_PREFIX)' OCSSD_CC='$(OCSSD_CC)' \
	OCSSD_DEBUG='$(OCSSD_DEBUG)' \
	OCSSD_SANITIZERS='$(or $(OCSSD_SANITIZERS_$(1)),$(OCSSD_SANITIZERS))' \
	OCSSD_FUZZ='$(OCSSD_FUZZ_$(1))'

.PHONY: all check check-quick guest-check demo bench fuzz install clean distclean \
	$(OCSSD_BUILDS)

all: $(OCSSD_BUILDS)

# One QEMU build at a time: each already uses every core.
.NOTPARALLEL:

$(OCSSD_BUILDS):
	$(call build_env,$@) $(TOP)/scripts/build-qemu $@

check: all
	$(TOP)/scripts/run-tests $(OCSSD_BUILDS)

# Everything but the Linux guest tests.
check-quick: all
	$(TOP)/scripts/run-tests --quick $(OCSSD_BUILDS)

# Only the Linux guest tests, on the first configured QEMU.
guest-check: $(PRIMARY)
	$(TOP)/scripts/guest-check \
		--qemu $(TOP)/build/$(PRIMARY)/qemu-build/qemu-system-x86_64
	$(TOP)/scripts/guest-lightnvm \
		--qemu $(TOP)/build/$(PRIMARY)/qemu-build/qemu-system-x86_64

demo: $(PRIMARY)
	$(TOP)/scripts/demo --qemu $(TOP)/build/$(PRIMARY)/qemu-build/qemu-system-x86_64

bench: $(PRIMARY)
	$(TOP)/scripts/bench --rounds $(BENCH_ROUNDS) \
		--qemu $(TOP)/build/$(PRIMARY)/qemu-build/qemu-system-x86_64
	$(TOP)/scripts/bench-migration --qemu $(TOP)/build/$(PRIMARY)/qemu-build/qemu-system-x86_64
	$(TOP)/scripts/heatmap --qemu $(TOP)/build/$(PRIMARY)/qemu-build/qemu-system-x86_64

fuzz: $(FUZZ_BUILD)
	@[ -n "$(FUZZ_BUILD)" ] || { echo "make fuzz: no fuzz build:" \
		"./configure --qemu=10.0-fuzz (or --qemu=all) first" >&2; exit 1; }
	$(TOP)/scripts/fuzz --seconds $(FUZZ_SECONDS) $(TOP)/build/$(FUZZ_BUILD)

install: $(PRIMARY)
	$(call build_env,$(PRIMARY)) $(TOP)/scripts/install $(PRIMARY)

clean:
	rm -rf $(addprefix $(TOP)/build/,$(OCSSD_BUILDS) qemu-10.0 qemu-7.2 \
		qemu-10.0-asan qemu-7.2-asan qemu-10.0-fuzz qemu-src tests)

distclean:
	rm -rf $(TOP)/build
