# recloser - circuit breakers for unmodified programs, as an LD_PRELOAD shim.
#   make          build/librecloser.so and build/recloser
#   make test     unit and integration tests (TAP, run by prove)
#   make demo     a narrated demonstration against local services
#   make bench    speed comparisons with and without the shim
#   make clean

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
BASE    := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread $(WARN)
B       := build
INIH_A  := $(shell for d in /usr/lib/$$(gcc -print-multiarch 2>/dev/null) /usr/lib64 /usr/lib; do \
             [ -f $$d/libinih.a ] && { echo $$d/libinih.a; break; }; done)

# Parts that know nothing about hooking: shared by the shim, the CLI, the tests.
CORE    := config state log
# The shim: the engine and the thin hooks, one file per family.
SHIM    := engine fdtable names hook_connect hook_fd hook_io hook_resolve
CLI     := recloser

CORE_O  := $(CORE:%=$(B)/obj/%.o)
SHIM_O  := $(SHIM:%=$(B)/obj/%.o)
CLI_O   := $(CLI:%=$(B)/obj/%.o)
UNIT    := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/*.c))
HELPERS := $(patsubst tests/progs/%.c,$(B)/t/%,$(wildcard tests/progs/*.c))

.PHONY: all test demo bench clean deps check-inih
all: check-inih $(B)/librecloser.so $(B)/recloser

check-inih:
	@[ -n "$(INIH_A)" ] || { echo "libinih.a not found: run scripts/deps.sh (apt-get install libinih-dev)"; exit 1; }

$(B)/obj/%.o: shim/%.c shim/*.h shim/*.def | $(B)/obj
	$(CC) $(CFLAGS) $(BASE) -Ishim -c -o $@ $<

$(B)/exports.map: shim/exports.map.in shim/hooks.def | $(B)
	$(CC) -E -P -x c -Ishim $< -o $@

$(B)/librecloser.so: $(CORE_O) $(SHIM_O) $(B)/exports.map
	$(CC) $(CFLAGS) -shared -pthread -o $@ $(CORE_O) $(SHIM_O) $(INIH_A) \
	  -Wl,--version-script=$(B)/exports.map -Wl,-z,defs -Wl,-z,now -Wl,--exclude-libs,ALL -ldl

$(B)/recloser: $(CLI_O) $(CORE_O)
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(INIH_A)

$(B)/t/%: tests/unit/%.c $(CORE_O) tests/unit/tap.h | $(B)/t
	$(CC) $(CFLAGS) $(BASE) -Wno-missing-prototypes -Ishim -Itests/unit -o $@ $< $(CORE_O) $(INIH_A)

$(B)/t/%: tests/progs/%.c | $(B)/t
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE -Wall -Werror -pthread -o $@ $<

$(B) $(B)/obj $(B)/t:
	mkdir -p $@

deps:
	@bash scripts/deps.sh

test: deps all $(UNIT) $(HELPERS)
	prove -f tests/

demo: deps all
	bash scripts/demo.sh

bench: deps all $(HELPERS)
	bash scripts/bench.sh

clean:
	rm -rf $(B)
