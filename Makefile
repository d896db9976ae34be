# recloser - circuit breakers for unmodified programs, as an LD_PRELOAD shim.
#   make          build/librecloser.so and build/recloser
#   make test     unit and integration tests (TAP, run by prove)
#   make demo     a narrated demonstration against local services
#   make bench    speed comparisons with and without the shim
#   make install  CLI, shim, man pages, example configs (PREFIX, DESTDIR)
#   make uninstall  removes exactly what install put there
#   make check-man  the man pages render without a warning
#   make clean

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
BASE    := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread $(WARN)
B       := build
# The shim is linked with link-time optimisation: a hooked call on a
# breaker's fd crosses a dozen functions in hooks/, engine/ and core/, and
# LTO inlines across the files (9% fewer instructions per ping-pong round
# trip, make bench's callgrind count).  The objects also carry ordinary
# code (-ffat-lto-objects), which the CLI and the unit tests link as
# before.  gcc only; not under a sanitizer's flags; LTO= turns it off.
ifeq ($(origin LTO),undefined)
LTO     := $(if $(findstring -fsanitize,$(CFLAGS)),,$(if $(shell $(CC) -v 2>&1 | grep '^gcc version'),\
             -flto=auto -ffat-lto-objects))
endif
# And it is profile-guided: an instrumented shim is built first (in
# $(B)/pgo), scripts/pgo-train.c runs the shim's common paths under it on
# loopback (blocking and non-blocking HTTP and echo calls, timeouts,
# connects, refusals, fds of no breaker: about 1 s), and the real shim is
# compiled with those counts, so that a call's path is laid out in a run
# and what is rare is moved out of it (per ping-pong round trip, a quarter
# fewer lines of code run, in valgrind's trace, and 9% fewer instructions,
# make bench's callgrind count).  -fprofile-partial-training: what no
# workload ran is optimised as without a profile.  A training run that
# fails gives a shim built without one (and says so).  Wherever LTO is;
# PGO= turns it off.
ifeq ($(origin PGO),undefined)
PGO     := $(if $(LTO),on)
endif
PGO_B   := $(B)/pgo
PGO_GEN := -fprofile-generate -fprofile-update=atomic
ifneq ($(PGO),)
PROFILE := $(PGO_B)/profile
PGO_USE := $$(cat $(abspath $(PROFILE)))
endif
INIH_A  := $(shell for d in /usr/lib/$$(gcc -print-multiarch 2>/dev/null) /usr/lib64 /usr/lib; do \
             [ -f $$d/libinih.a ] && { echo $$d/libinih.a; break; }; done)

# The layers (shim/*/): each includes only the layers below it.
#   core/    knows no hook: shared by the shim, the CLI and the unit tests
#   engine/  the shim's breaker logic behind the hooks; exports nothing
#   hooks/   the exported symbols only, one file per family
#   cli/     the recloser command
CORE_O  := $(patsubst shim/%.c,$(B)/obj/%.o,$(wildcard shim/core/*.c))
SHIM_O  := $(patsubst shim/%.c,$(B)/obj/%.o,$(wildcard shim/engine/*.c shim/hooks/*.c))
CLI_O   := $(patsubst shim/%.c,$(B)/obj/%.o,$(wildcard shim/cli/*.c))
UNIT    := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/*.c)) \
           $(patsubst tests/engine/%.c,$(B)/t/%,$(wildcard tests/engine/*.c))
HELPERS := $(patsubst tests/progs/%.c,$(B)/t/%,$(wildcard tests/progs/*.c))
HDRS    := $(wildcard shim/*/*.h shim/*/*.def)

.PHONY: all test demo bench clean deps check-inih check-mhd install uninstall check-man
all: check-inih $(B)/librecloser.so $(B)/recloser

check-inih:
	@[ -n "$(INIH_A)" ] || { echo "libinih.a not found: run scripts/deps.sh (apt-get install libinih-dev)"; exit 1; }

# A config image (core/image.h) is read only by the build that wrote it:
# its tag is a checksum of core's sources, so image.o is made anew with
# any of them.
IMAGE_TAG := $(shell cat $(sort $(wildcard shim/core/*.c shim/core/*.h shim/core/*.def)) | \
               cksum | cut -d' ' -f1)
OBJ_DEFS = $(if $(filter %/core/image.o,$@),-DRC_IMAGE_TAG=$(IMAGE_TAG)ull)
$(B)/obj/core/image.o $(PGO_B)/obj/core/image.o: $(wildcard shim/core/*.c)

# The shim's objects (core's also go into the CLI and the unit tests),
# with the training's counts for each when there are (see PGO above).
# Both builds compile in their own directory, to obj/..., from the same
# absolute source: gcc names a static function's counts after the object
# and source paths, which must then be the same in the two.
$(B)/obj/%.o: shim/%.c $(HDRS) $(PROFILE)
	@mkdir -p $(@D)
	@rm -f $(@:.o=.gcda)
	@[ ! -s "$(PROFILE)" ] || [ ! -f $(PGO_B)/obj/$*.gcda ] || cp $(PGO_B)/obj/$*.gcda $(@:.o=.gcda)
	cd $(B) && $(CC) $(CFLAGS) $(LTO) $(PGO_USE) $(BASE) \
	  $(OBJ_DEFS) -I$(CURDIR)/shim -c -o obj/$*.o $(CURDIR)/$<

$(B)/obj/cli/%.o: shim/cli/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(BASE) -Ishim -c -o $@ $<

# The training build: instrumented objects, their shim, the run.
$(PGO_B)/obj/%.o: shim/%.c $(HDRS)
	@mkdir -p $(@D)
	cd $(PGO_B) && $(CC) $(CFLAGS) $(LTO) $(PGO_GEN) $(BASE) $(OBJ_DEFS) -I$(CURDIR)/shim \
	  -c -o obj/$*.o $(CURDIR)/$<

$(PGO_B)/train: scripts/pgo-train.c tests/progs/bench.h
	@mkdir -p $(@D)
	$(CC) -O2 -std=gnu11 -Wall -Werror -pthread -o $@ $<

# (PGO_TRAIN: the training command, given the instrumented shim; a test
# sets it to one that fails)
PGO_TRAIN = $(PGO_B)/train
$(PGO_B)/profile: $(PGO_B)/librecloser.so $(PGO_B)/train
	@find $(PGO_B)/obj -name '*.gcda' -delete
	@if $(PGO_TRAIN) $(abspath $(PGO_B)/librecloser.so) && \
	    n=$$(find $(PGO_B)/obj -name '*.gcda' | wc -l) && [ "$$n" -gt 0 ]; then \
	  echo "-fprofile-use -fprofile-partial-training -Wno-missing-profile" > $@; \
	  echo "pgo: trained ($$n profiles)"; \
	else echo "pgo: the training run failed: the shim is built without a profile" >&2; : > $@; fi

$(B)/exports.map: shim/hooks/exports.map.in shim/hooks/hooks.def shim/hooks/curl.def \
		 shim/hooks/tls.def | $(B)
	$(CC) -E -P -x c -Ishim $< -o $@

# The shim binds core's I/O interface to the real functions itself
# (engine/real.c), so it leaves out core/sys.o, libc's binding; inih's
# one reference to a hooked name is wrapped (see engine/real.c).
SHIM_CORE_O := $(filter-out $(B)/obj/core/sys.o,$(CORE_O))
SHIM_LINK = -shared -pthread -o $@ $(filter %.o,$^) $(INIH_A) \
	  -Wl,--version-script=$(B)/exports.map -Wl,-z,defs -Wl,-z,now -Wl,--exclude-libs,ALL \
	  -Wl,--wrap=fopen64 -ldl
$(B)/librecloser.so: $(SHIM_CORE_O) $(SHIM_O) $(B)/exports.map
	$(CC) $(CFLAGS) $(LTO) $(PGO_USE) $(SHIM_LINK)

$(PGO_B)/librecloser.so: $(patsubst $(B)/%,$(PGO_B)/%,$(SHIM_CORE_O) $(SHIM_O)) $(B)/exports.map
	$(CC) $(CFLAGS) $(LTO) $(PGO_GEN) $(SHIM_LINK)

# The dashboard (shim/cli/dashboard.c): libmicrohttpd, in the CLI only (the
# shim links libc only), and its page with Debian's Chart.js embedded
# (scripts/embed.sh) into the binary.
CHARTJS  ?= /usr/share/javascript/chart.js/chart.min.js
DASH_ASSETS := index.html=shim/cli/dashboard.html app.js=shim/cli/dashboard.js \
               app.css=shim/cli/dashboard.css chart.js=$(CHARTJS)
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)

$(B)/gen/assets.c: shim/cli/dashboard.html shim/cli/dashboard.js shim/cli/dashboard.css \
		   scripts/embed.sh
	@mkdir -p $(@D)
	@[ -r $(CHARTJS) ] || { echo "$(CHARTJS) not found: run scripts/deps.sh (apt-get install libjs-chart.js)"; exit 1; }
	bash scripts/embed.sh $@ $(DASH_ASSETS)

$(B)/obj/gen/assets.o: $(B)/gen/assets.c shim/cli/assets.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(BASE) -Ishim -c -o $@ $<

$(B)/obj/cli/dashboard.o: | check-mhd
check-mhd:
	@[ -f /usr/include/microhttpd.h ] || { echo "microhttpd.h not found: run scripts/deps.sh (apt-get install libmicrohttpd-dev)"; exit 1; }

$(B)/recloser: $(CLI_O) $(CORE_O) $(B)/obj/gen/assets.o
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(INIH_A) $(MHD_LIBS)

$(B)/t/%: tests/unit/%.c $(CORE_O) tests/unit/tap.h tests/unit/bigconf.h | $(B)/t
	$(CC) $(CFLAGS) $(BASE) -Wno-missing-prototypes -Ishim -Itests/unit -o $@ $< $(CORE_O) $(INIH_A)

# Engine unit tests: one engine object with the shim's core, no hooks.
$(B)/t/real_test: tests/engine/real_test.c $(B)/obj/engine/real.o $(SHIM_CORE_O) tests/unit/tap.h | $(B)/t
	$(CC) $(CFLAGS) $(BASE) -Wno-missing-prototypes -Ishim -Itests/unit -o $@ $< \
	  $(B)/obj/engine/real.o $(SHIM_CORE_O) $(INIH_A) -ldl

$(B)/t/%: tests/progs/%.c tests/progs/bench.h shim/hooks/hooks.def | $(B)/t
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE -Wall -Werror -pthread -o $@ $<

# The tests' look into a state file (tests/progs/state_peek.c): the core.
$(B)/t/state_peek: tests/progs/state_peek.c $(CORE_O) | $(B)/t
	$(CC) $(CFLAGS) $(BASE) -Wno-missing-prototypes -Ishim -o $@ $< $(CORE_O) $(INIH_A)

# make bench's lookup timings: the shim's core, no hooks.
$(B)/t/bench_match: tests/bench/bench_match.c tests/unit/bigconf.h $(CORE_O) | $(B)/t
	$(CC) $(CFLAGS) $(BASE) -Wno-missing-prototypes -Ishim -Itests/unit -o $@ $< $(CORE_O) $(INIH_A)

$(B) $(B)/t:
	mkdir -p $@

deps:
	@bash scripts/deps.sh

test: deps all $(UNIT) $(HELPERS)
	prove -f tests/

demo: deps all
	bash scripts/demo.sh

bench: deps all $(HELPERS) $(B)/t/bench_match
	bash scripts/bench.sh

clean:
	rm -rf $(B)

# ---- install ----
# make install [PREFIX=/usr/local] [DESTDIR=]: the CLI in bin/, the shim in
# lib/recloser/ (where the installed `recloser run` looks for it: beside
# itself, else ../lib/recloser/), the man pages, and the reference config
# and every other file under conf/ as examples in share/doc/recloser/.
# uninstall removes those files and the recloser directories, nothing else.
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
BINDIR  := $(PREFIX)/bin
SHIMDIR := $(PREFIX)/lib/recloser
MANDIR  := $(PREFIX)/share/man
DOCDIR  := $(PREFIX)/share/doc/recloser
MAN1    := $(wildcard man/*.1)
MAN5    := $(wildcard man/*.5)
# conf/recloser.ini becomes recloser.ini.example; every other regular file
# under conf/ (examples, alert rules, a systemd drop-in; not dotfiles or
# backups~) keeps its path.
DOCS    := $(patsubst conf/%,%,$(filter-out conf/recloser.ini,\
             $(shell find conf -type f ! -name '.*' ! -name '*~' 2>/dev/null | LC_ALL=C sort)))

install: all
	$(INSTALL) -d -m 755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHIMDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(B)/recloser $(DESTDIR)$(BINDIR)/recloser
	$(INSTALL) -m 644 $(B)/librecloser.so $(DESTDIR)$(SHIMDIR)/librecloser.so
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 conf/recloser.ini $(DESTDIR)$(DOCDIR)/recloser.ini.example
	@set -e; for f in $(DOCS); do \
	  echo "$(INSTALL) -D -m 644 conf/$$f $(DESTDIR)$(DOCDIR)/$$f"; \
	  $(INSTALL) -D -m 644 "conf/$$f" "$(DESTDIR)$(DOCDIR)/$$f"; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/recloser $(DESTDIR)$(SHIMDIR)/librecloser.so
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%)
	rm -f $(DESTDIR)$(DOCDIR)/recloser.ini.example $(DOCS:%=$(DESTDIR)$(DOCDIR)/%)
	@set -e; dirs=""; for f in $(DOCS); do \
	  d=$${f%/*}; while [ "$$d" != "$$f" ] && [ -n "$$d" ]; do \
	    dirs="$$dirs $$d"; f=$$d; d=$${d%/*}; done; \
	done; \
	for d in $$(printf '%s\n' $$dirs | LC_ALL=C sort -ru) ""; do \
	  p="$(DESTDIR)$(DOCDIR)$${d:+/$$d}"; \
	  [ ! -d "$$p" ] || rmdir --ignore-fail-on-non-empty "$$p"; \
	done; \
	[ ! -d "$(DESTDIR)$(SHIMDIR)" ] || rmdir --ignore-fail-on-non-empty "$(DESTDIR)$(SHIMDIR)"

# groff and man-db both render each page without a warning.
check-man:
	@set -e; for m in $(MAN1) $(MAN5); do \
	  out=$$( { groff -man -ww -z "$$m"; MANWIDTH=80 man --warnings -E UTF-8 -l "$$m" >/dev/null; } 2>&1); \
	  if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; exit 1; fi; \
	  echo "$$m: ok"; \
	done

# ---- fuzz: libFuzzer harnesses (tests/fuzz/, scripts/fuzz.sh) ----
# make fuzz [FUZZ_SECS=60]: builds the harnesses with clang into
# build/fuzz/NAME (config, http, shm, cli) and runs each for FUZZ_SECS
# seconds on a copy of its seed corpus (tests/fuzz/corpus/NAME/) with its
# dictionary (tests/fuzz/NAME.dict); fails on any crash, leak, sanitizer
# report or broken contract, leaving the input in build/fuzz/artifacts/.
# Core and CLI sources are compiled unchanged, once more, instrumented
# (-fsanitize=fuzzer-no-link,address,undefined) into build/fuzz/obj/.
.PHONY: fuzz
FUZZ_CC   ?= clang
FUZZ_SECS ?= 60
FZ        := $(B)/fuzz
FZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FZ_FLAGS  := -g -O1 -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -pthread \
             -Wall -Wextra -Wno-unused-parameter -Ishim
FZ_CORE_O := $(patsubst shim/%.c,$(FZ)/obj/%.o,$(wildcard shim/core/*.c))
# main.c, run.c and watch.c are compiled through tests/fuzz/cli_*.c; the
# dashboard (a server, and libmicrohttpd) is left out: cli_dashboard.c
# stands in for its verb
FZ_CLI_O  := $(patsubst shim/%.c,$(FZ)/obj/%.o,$(filter-out \
               shim/cli/main.c shim/cli/run.c shim/cli/watch.c shim/cli/dashboard.c \
               shim/cli/dashdata.c shim/cli/dashview.c,$(wildcard shim/cli/*.c))) \
             $(FZ)/obj/fuzz/cli_main.o $(FZ)/obj/fuzz/cli_run.o $(FZ)/obj/fuzz/cli_watch.o \
             $(FZ)/obj/fuzz/cli_dashboard.o

$(FZ)/obj/%.o: shim/%.c $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FZ_FLAGS) -fsanitize=fuzzer-no-link $(FZ_SAN) -c -o $@ $<

# (core/image.c's tag, as in the build's own rule above)
$(FZ)/obj/core/image.o: shim/core/image.c $(wildcard shim/core/*.c) $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FZ_FLAGS) -DRC_IMAGE_TAG=$(IMAGE_TAG)ull -fsanitize=fuzzer-no-link $(FZ_SAN) \
	  -c -o $@ $<

$(FZ)/obj/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h $(HDRS) $(wildcard shim/cli/*.c)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FZ_FLAGS) -fsanitize=fuzzer-no-link $(FZ_SAN) -c -o $@ $<

$(FZ)/config: $(FZ)/obj/fuzz/config.o $(FZ_CORE_O)
	$(FUZZ_CC) -fsanitize=fuzzer $(FZ_SAN) -pthread -o $@ $^ $(INIH_A)

$(FZ)/http: $(FZ)/obj/fuzz/http.o $(FZ)/obj/core/http.o
	$(FUZZ_CC) -fsanitize=fuzzer $(FZ_SAN) -o $@ $^

# the state file on a virtual clock (fakeclock.c) instead of core/clock.c
$(FZ)/shm: $(FZ)/obj/fuzz/shm.o $(FZ)/obj/fuzz/fakeclock.o \
           $(filter-out $(FZ)/obj/core/clock.o,$(FZ_CORE_O))
	$(FUZZ_CC) -fsanitize=fuzzer $(FZ_SAN) -pthread -o $@ $^ $(INIH_A)

$(FZ)/cli: $(FZ)/obj/fuzz/cli.o $(FZ_CLI_O) $(FZ_CORE_O)
	$(FUZZ_CC) -fsanitize=fuzzer $(FZ_SAN) -pthread -o $@ $^ $(INIH_A)

fuzz: deps check-inih
	@FUZZ_SECS="$(FUZZ_SECS)" FUZZ_CC="$(FUZZ_CC)" MAKE="$(MAKE)" bash scripts/fuzz.sh
# ---- end of fuzz ----

# ---- sanitize: ASan+UBSan and TSan runs (scripts/sanitize.sh) ----
# make sanitize: the unit tests under ASan+UBSan (build-asan/t/) and under
# TSan (build-tsan/t/), then the integration tests (prove) with the
# ASan+UBSan shim and CLI of build-asan/; fails on any sanitizer report or
# failed test.  The script builds those directories with B= and CFLAGS= set,
# through sanitize-build (shim, CLI, unit tests) and sanitize-units, and
# build/'s helpers some integration tests run, through sanitize-helpers.
.PHONY: sanitize sanitize-build sanitize-units sanitize-helpers
sanitize-units: $(UNIT)
sanitize-build: check-inih $(B)/librecloser.so $(B)/recloser $(UNIT)
sanitize-helpers: all $(HELPERS)
sanitize: deps
	@MAKE="$(MAKE)" CC="$(CC)" bash scripts/sanitize.sh
# ---- end of sanitize ----
