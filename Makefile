# mxspool - build, test and run.  See README.md.
#
#   make          build build/mxspool-ingest and build/mxspool-replay
#   make deps     install the Debian packages (scripts/deps.sh; idempotent)
#   make test     deps, build, unit tests (plain and ASan/UBSan), then every
#                 tests/e2e/*.sh against real servers
#   make unit     build the unit tests (build/tests/test_NAME; not run)
#   make unit-run build and run every unit test (plain; ASan/UBSan ones too if
#                 build-san exists: it is rebuilt first)
#   make check T=PATTERN
#                 build, then run the unit and e2e tests whose name contains
#                 PATTERN (tests/run.sh PATTERN); e.g. make check T=spool
#   make run      deps, build, start the demo stack (scripts/run-demo.sh)
#   make lint     banned-function check (style.md)
#
# O=DIR puts the objects elsewhere (helpers and parallel checkouts use it);
# SAN=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.

O	?= build
NPROC	:= $(shell nproc 2>/dev/null || echo 2)
CC	?= cc
PKGS	= openssl sqlite3 libcurl libmicrohttpd jansson inih libidn2 libunbound
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 \
	   -Wno-unused-parameter -D_GNU_SOURCE -iquote common -iquote $(O)/gen
LDLIBS	+= $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lsqlite3 -lcurl -lmicrohttpd -ljansson -linih -lidn2 -lunbound) -lpthread -lm
# DKIM and DMARC (ingest/auth.c); libopendmarc has no pkg-config file
LDLIBS	+= -lopendkim -lopendmarc
ifeq ($(SAN),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

COMMON_SRC = $(sort $(wildcard common/*.c))
INGEST_SRC = $(sort $(wildcard ingest/*.c))
REPLAY_SRC = $(sort $(wildcard replay/*.c))
UNIT_SRC   = $(sort $(wildcard tests/unit/test_*.c))
EMBED	   = $(sort $(wildcard schema/*.sql) $(wildcard replay/assets/*))

COMMON_OBJ = $(COMMON_SRC:%.c=$(O)/%.o) $(O)/gen/embed.o
INGEST_OBJ = $(INGEST_SRC:%.c=$(O)/%.o)
REPLAY_OBJ = $(REPLAY_SRC:%.c=$(O)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
TOOL_SRC   = $(sort $(wildcard tests/tools/*.c))
TOOL_BIN   = $(TOOL_SRC:tests/tools/%.c=$(O)/tests/tools/%)

all: $(O)/mxspool-ingest $(O)/mxspool-replay $(TOOL_BIN)

$(O)/%.o: %.c $(wildcard common/*.h ingest/*.h replay/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# the readiness check loads the recipient sources as the ingest does (rcpt_verify, callout)
$(O)/replay/check_local.o: CFLAGS += -iquote ingest

$(O)/gen/embed.c: $(EMBED) scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $@ $(EMBED)

$(O)/gen/embed.o: $(O)/gen/embed.c
	$(CC) $(CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(O)/libmxcommon.a: $(COMMON_OBJ)
	rm -f $@; ar rcs $@ $^

# The programs' modules without main(), for the unit tests and test tools.
$(O)/libmxingest.a: $(filter-out $(O)/ingest/main.o,$(INGEST_OBJ))
	rm -f $@; ar rcs $@ $^

$(O)/libmxreplay.a: $(filter-out $(O)/replay/main.o,$(REPLAY_OBJ))
	rm -f $@; ar rcs $@ $^

# replay before ingest: the readiness check (replay) uses the ingest's recipient loader
TESTLIBS = $(O)/libmxreplay.a $(O)/libmxingest.a $(O)/libmxcommon.a

$(O)/mxspool-ingest: $(INGEST_OBJ) $(O)/libmxcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/mxspool-replay: $(REPLAY_OBJ) $(O)/libmxingest.a $(O)/libmxcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c $(TESTLIBS) $(wildcard common/*.h ingest/*.h replay/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -iquote tests/unit -iquote ingest -iquote replay $(LDFLAGS) -o $@ $< $(TESTLIBS) $(LDLIBS) -lcmocka

# small programs the e2e tests drive (not installed)
$(O)/tests/tools/%: tests/tools/%.c $(TESTLIBS) $(wildcard common/*.h ingest/*.h replay/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -iquote ingest -iquote replay $(LDFLAGS) -o $@ $< $(TESTLIBS) $(LDLIBS)

unit: $(UNIT_BIN)

# Before running, build-san is brought up to date if it exists: tests/run.sh
# runs its binaries too, and a stale one would test old code.
SAN_REFRESH = if [ -d build-san ] && [ "$(O)" = build ]; then \
	$(MAKE) --no-print-directory -j$(NPROC) O=build-san SAN=1 all unit; fi

unit-run: unit
	@$(SAN_REFRESH)
	@sh tests/run.sh -u

check: all unit
	@$(SAN_REFRESH)
	@sh tests/run.sh "$(T)"

deps:
	@sh scripts/deps.sh all

lint:
	@! git grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|strtok)[[:space:]]*\(' -- '*.c' '*.h' \
		|| { echo "lint: banned functions above (see style.md)"; exit 1; }

test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory -j$(NPROC) all unit
	@$(MAKE) --no-print-directory -j$(NPROC) O=build-san SAN=1 all unit
	@sh tests/run.sh

run: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@sh scripts/run-demo.sh

clean:
	rm -rf build build-san

.PHONY: all unit unit-run check deps lint test run clean
.SECONDARY:
