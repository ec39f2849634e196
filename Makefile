# Makefile: builds the Hearth runtime, its test binary, the runtime benchmark and the
# embedding example (GNU make).
#
#   make [TYPE=opt|debug|asan|tsan] [WERROR=1] [CC=clang] [V=1]   everything into build/$(TYPE)/
#   make check                      builds and runs build/$(TYPE)/hearth-test
#   make install PREFIX=/some/dir   headers, libhearth.a, libhearth.so*, pkgconfig/hearth.pc
#   make check-install              installs to a scratch prefix and builds a program there
#   make clean                      removes build/
#
# Sources are found, not listed: every *.c and *.S under runtime/ and actors/ goes into
# the library, every test/test-*.c into the test binary, every bench/runtime/*.c into
# the benchmark, every examples/embed/*.c into the example. So adding a file never
# means editing this one. The test list is generated from TEST_IMPL(name) lines for
# the same reason: no shared list for engineers to conflict on.

TYPE ?= opt
ifeq ($(filter $(TYPE),opt debug asan tsan),)
$(error TYPE must be one of opt, debug, asan, tsan (got '$(TYPE)'))
endif

# Make's built-in default is cc; ours is gcc. An explicit CC=... still wins.
ifeq ($(origin CC),default)
CC := gcc
endif
ifeq ($(origin AR),default)
AR := ar
endif

PREFIX ?= /usr/local

# One source of truth for the version: the macros in the public header.
VERSION := $(shell sed -n 's/^\#define HEARTH_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9][0-9]*\).*/\2/p' \
                include/hearth/hearth.h | paste -sd. -)
ifeq ($(VERSION),)
VERSION := 0.0.0
endif
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

B := build/$(TYPE)
OBJ := $(B)/obj

# ---- sources ------------------------------------------------------------------------

LIB_SRCS := $(sort $(shell find runtime actors -type f \( -name '*.c' -o -name '*.S' \) 2>/dev/null))
TEST_SRCS := test/runner.c $(sort $(wildcard test/test-*.c))
BENCH_SRCS := $(sort $(wildcard bench/runtime/*.c))
EMBED_SRCS := $(sort $(wildcard examples/embed/*.c))

# Objects mirror the tree and keep the source suffix (runtime/green/switch.S ->
# obj/runtime/green/switch.S.o), so foo.c and foo.S in one directory never collide.
objs = $(patsubst %,$(OBJ)/%.o,$(1))
LIB_OBJS := $(call objs,$(LIB_SRCS))
TEST_OBJS := $(call objs,$(TEST_SRCS))
BENCH_OBJS := $(call objs,$(BENCH_SRCS))
EMBED_OBJS := $(call objs,$(EMBED_SRCS))

# ---- flags ----------------------------------------------------------------------------

BASE_CFLAGS := -std=c11 -Wall -Wextra -fvisibility=hidden -fPIC -pthread -g
BASE_CPPFLAGS := -D_GNU_SOURCE -Iinclude -Iruntime

ifeq ($(TYPE),opt)
TYPE_CFLAGS := -O2
else ifeq ($(TYPE),debug)
TYPE_CFLAGS := -O0 -g3
else ifeq ($(TYPE),asan)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TYPE_CFLAGS := -O1 $(SAN_FLAGS)
else ifeq ($(TYPE),tsan)
SAN_FLAGS := -fsanitize=thread
# CK_USE_CC_BUILTINS makes Concurrency Kit use compiler atomics instead of inline
# assembly, which TSan cannot see.
TYPE_CFLAGS := -O1 $(SAN_FLAGS) -DCK_USE_CC_BUILTINS=1
endif

ifeq ($(WERROR),1)
TYPE_CFLAGS += -Werror
endif

# CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS from the command line or the environment are
# added after ours, so they can override.
ALL_CFLAGS = $(BASE_CFLAGS) $(TYPE_CFLAGS) $(CFLAGS)
ALL_CPPFLAGS = $(BASE_CPPFLAGS) $(CPPFLAGS)
ALL_LDFLAGS = -pthread $(SAN_FLAGS) $(LDFLAGS)
LIBS := -luv -lck -pthread -lm $(LDLIBS)

# V=1 shows whole command lines; by default each step prints one short line, so
# warnings stand out. The flags are in build/$(TYPE)/flags.
ifeq ($(V),1)
Q :=
say = @:
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

# ---- targets ------------------------------------------------------------------------------

LIB_A := $(B)/libhearth.a
LIB_SO := $(B)/libhearth.so.$(VERSION)
LIB_SO_LINKS := $(B)/libhearth.so.$(SOMAJOR) $(B)/libhearth.so
PC := $(B)/hearth.pc
TEST_BIN := $(B)/hearth-test
BENCH_BIN := $(if $(BENCH_SRCS),$(B)/hearth-bench-runtime)
EMBED_BIN := $(if $(EMBED_SRCS),$(B)/embed-example)

.PHONY: all lib tests bench examples check test install check-install clean version FORCE
.DEFAULT_GOAL := all

all: lib tests bench examples
lib: $(LIB_A) $(LIB_SO) $(LIB_SO_LINKS) $(PC)
tests: $(TEST_BIN)
# bench/runtime/ and examples/embed/ may still be empty: then these build nothing.
bench: $(BENCH_BIN)
examples: $(EMBED_BIN)

check test: $(TEST_BIN)
	$(TEST_BIN) $(TEST_ARGS)

# Every object depends on this file, rewritten only when the compiler or the flags
# change, so `make WERROR=1` or `make CC=clang` rebuilds what it must. (Expanded
# now, so no target-specific flag leaks into it.)
FLAGS_LINE := $(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) $(ALL_LDFLAGS) $(LIBS)
$(B)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS_LINE)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(OBJ)/%.c.o: %.c $(B)/flags
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(EXTRA_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJ)/%.S.o: %.S $(B)/flags
	@mkdir -p $(@D)
	$(call say,AS,$<)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(EXTRA_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The runner includes the generated test list from the build directory.
$(OBJ)/test/runner.c.o: private EXTRA_CPPFLAGS := -I$(B)
$(OBJ)/test/runner.c.o: $(B)/test-list.h
# Examples see only the public headers, as an embedding program would.
ifneq ($(EMBED_OBJS),)
$(EMBED_OBJS): private BASE_CPPFLAGS := -D_GNU_SOURCE -Iinclude
endif

# One TEST_ENTRY(name) per TEST_IMPL(name) at the start of a line in test/test-*.c.
# Rebuilt on every make, replaced only when its contents change (so runner.c is
# recompiled only then, and a deleted test file drops out of the list).
$(B)/test-list.h: FORCE
	@mkdir -p $(@D)
	@{ echo '/* Generated by make from TEST_IMPL(name) in test/test-*.c: do not edit. */'; \
	  for f in $(filter test/test-%,$(TEST_SRCS)); do \
	    sed -n 's/^TEST_IMPL[[:space:]]*([[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*).*/TEST_ENTRY(\1)/p' "$$f"; \
	  done; } > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# rm first, so objects of deleted sources leave the archive.
$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# --no-undefined: a symbol no source defines fails here, not in an embedder's link.
# Not under the sanitizers: clang leaves their runtimes out of shared libraries.
SO_LDFLAGS := -shared -Wl,-soname,libhearth.so.$(SOMAJOR) $(if $(SAN_FLAGS),,-Wl,--no-undefined)

$(LIB_SO): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(SO_LDFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/libhearth.so.$(SOMAJOR): $(LIB_SO)
	$(Q)ln -sf $(notdir $<) $@

$(B)/libhearth.so: $(B)/libhearth.so.$(SOMAJOR)
	$(Q)ln -sf $(notdir $<) $@

# A build tree's hearth.pc points at PREFIX; install writes its own.
# RELOCATABLE=1 makes the prefix relative to the .pc file, for release tarballs.
ifeq ($(RELOCATABLE),1)
PC_PREFIX = $${pcfiledir}/../..
else
PC_PREFIX = $(PREFIX)
endif
define make-pc
sed -e 's|@PREFIX@|$(PC_PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' hearth.pc.in
endef

# Regenerated every time (it is cheap), replaced only when PREFIX or the template
# changed.
$(PC): hearth.pc.in FORCE
	@mkdir -p $(@D)
	@$(make-pc) > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# Test, bench and example programs link the static library, so a test can reach
# hidden internal symbols and a debugger sees one binary.
$(TEST_BIN): $(TEST_OBJS) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJS) $(APPS_A) $(LIB_A) $(LIBS) $(APPS_LIBS)

$(B)/hearth-bench-runtime: $(BENCH_OBJS) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_OBJS) $(LIB_A) $(LIBS)

$(B)/embed-example: $(EMBED_OBJS) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(EMBED_OBJS) $(LIB_A) $(LIBS)

# ---- apps: the chat server's parts -------------------------------------------------------------
# Every *.c under apps/ (store, http, ...) goes into libhearth-apps.a, which the test
# binary (and later the server) links before libhearth.a. Apps include each other as
# "store/store.h" (-Iapps); tests do too. APPS_LIBS: the system libraries apps use.

APPS_SRCS := $(sort $(shell find apps -type f -name '*.c' 2>/dev/null))
APPS_OBJS := $(call objs,$(APPS_SRCS))
APPS_A := $(if $(APPS_SRCS),$(B)/libhearth-apps.a)
APPS_LIBS := -lsqlite3 -lsodium -ljansson -lcrypto -lz

$(APPS_OBJS) $(TEST_OBJS): private EXTRA_CPPFLAGS += -Iapps

ifneq ($(APPS_A),)
$(APPS_A): $(APPS_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(TEST_BIN): $(APPS_A)
endif

-include $(wildcard $(patsubst %.o,%.d,$(APPS_OBJS)))

# ---- hearth-server: the chat node, with the admin CLI inside ------------------------------------
# apps/server/main.c is linked as an object; the rest comes from libhearth-apps.a. The
# tests run the binary (api_server_*), so building them builds it too.

SERVER_MAIN := $(wildcard apps/server/main.c)
SERVER_BIN := $(if $(SERVER_MAIN),$(B)/hearth-server)

ifneq ($(SERVER_BIN),)
.PHONY: server
all server: $(SERVER_BIN)
$(TEST_BIN): | $(SERVER_BIN)

$(SERVER_BIN): $(call objs,$(SERVER_MAIN)) $(APPS_A) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(call objs,$(SERVER_MAIN)) $(APPS_A) $(LIB_A) $(LIBS) $(APPS_LIBS)
endif

# ---- fuzzers (clang's libFuzzer) ------------------------------------------------------------------
# make fuzz builds build/fuzz/fuzz_* from test/fuzz/fuzz_*.c, each with the few pure
# sources it drives (no runtime); make fuzz-run runs each for FUZZ_SECONDS on a copy of
# its seed corpus test/fuzz/corpus/<name>/.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B := build/fuzz
FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer -D_GNU_SOURCE -Iinclude -Iapps
FUZZ_SRCS_fuzz_http_request := apps/http/parser.c apps/http/router.c
FUZZ_SRCS_fuzz_ws_frame := apps/http/ws.c apps/http/parser.c
FUZZ_LIBS_fuzz_ws_frame := -lcrypto
FUZZ_SRCS_fuzz_gateway_payload := apps/hub/etf.c
FUZZ_LIBS_fuzz_gateway_payload := -ljansson -lm
FUZZERS := $(patsubst test/fuzz/%.c,$(FUZZ_B)/%,$(wildcard test/fuzz/fuzz_*.c))

.PHONY: fuzz fuzz-run
fuzz: $(FUZZERS)

$(FUZZ_B)/%: test/fuzz/%.c $(wildcard apps/http/*.c apps/http/*.h apps/hub/etf.c apps/hub/etf.h)
	@mkdir -p $(@D)
	$(call say,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*)

fuzz-run: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); \
	  mkdir -p $(FUZZ_B)/corpus/$$n; cp -n test/fuzz/corpus/$$n/* $(FUZZ_B)/corpus/$$n/ 2>/dev/null || true; \
	  echo "fuzz-run: $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_B)/corpus/$$n; done

# ---- install ---------------------------------------------------------------------------------

install: $(LIB_A) $(LIB_SO) $(LIB_SO_LINKS)
	install -d $(DESTDIR)$(PREFIX)/include/hearth $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/hearth/*.h $(DESTDIR)$(PREFIX)/include/hearth/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libhearth.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libhearth.so.$(SOMAJOR)
	ln -sf libhearth.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libhearth.so
	$(make-pc) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hearth.pc

# The program an embedder would write first: include the public header, link with
# what pkg-config says, run. Built twice: against the shared library (the default
# when both exist) and against the static one with pkg-config --static. Then the
# embedding example (examples/embed/), built the same way against the shared library.
define CHECK_INSTALL_C
/* Built by make check-install against an installed Hearth. */
#include <hearth/hearth.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    const char *s = hearth_strerror(HEARTH_ESRCH);

    printf("hearth %d.%d.%d: %s\n", HEARTH_VERSION_MAJOR, HEARTH_VERSION_MINOR,
           HEARTH_VERSION_PATCH, s);
    return s == NULL || strlen(s) == 0;
}
endef
export CHECK_INSTALL_C

CHK := $(abspath $(B)/check-install)

check-install: $(LIB_A) $(LIB_SO) $(LIB_SO_LINKS)
	rm -rf $(CHK)
	mkdir -p $(CHK)
	$(MAKE) --no-print-directory TYPE=$(TYPE) PREFIX=$(CHK)/prefix install
	printf '%s\n' "$$CHECK_INSTALL_C" > $(CHK)/main.c
	set -e; export PKG_CONFIG_PATH=$(CHK)/prefix/lib/pkgconfig; \
	test "$$(pkg-config --modversion hearth)" = "$(VERSION)"; \
	echo "pkg-config --cflags --libs hearth: $$(pkg-config --cflags --libs hearth)"; \
	$(CC) $(SAN_FLAGS) -o $(CHK)/main-shared $(CHK)/main.c $$(pkg-config --cflags --libs hearth); \
	readelf -d $(CHK)/main-shared | grep -q 'NEEDED.*\[libhearth\.so\.$(SOMAJOR)\]'; \
	LD_LIBRARY_PATH=$(CHK)/prefix/lib $(CHK)/main-shared; \
	$(CC) $(SAN_FLAGS) -o $(CHK)/main-static $(CHK)/main.c \
	    $$(pkg-config --cflags hearth) $$(pkg-config --static --libs hearth | sed 's/-lhearth\b/-l:libhearth.a/'); \
	! readelf -d $(CHK)/main-static | grep -q 'NEEDED.*libhearth'; \
	$(CHK)/main-static; \
	if [ -n "$(EMBED_SRCS)" ]; then \
	    $(CC) $(SAN_FLAGS) -o $(CHK)/embed-example $(EMBED_SRCS) $$(pkg-config --cflags --libs hearth); \
	    LD_LIBRARY_PATH=$(CHK)/prefix/lib $(CHK)/embed-example; \
	fi
	@echo "check-install: ok (shared and static, prefix $(CHK)/prefix)"

clean:
	rm -rf build

version:
	@echo $(VERSION)

FORCE:

-include $(wildcard $(patsubst %.o,%.d,$(LIB_OBJS) $(TEST_OBJS) $(BENCH_OBJS) $(EMBED_OBJS)))
