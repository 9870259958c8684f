# Makefile: builds the session rooms into build/, installs their packages, runs and tests them.

CC      ?= cc
PKGS    := sqlite3 libsodium json-c
CSTD    := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
           -Wformat=2 -Wformat-security -Wundef -Wvla -Wimplicit-fallthrough \
           -Wold-style-definition -Wnested-externs -Wmissing-declarations
OPT     ?= -O2 -g
CFLAGS  += $(CSTD) $(WARN) $(OPT) -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
           -Idb -Iwire $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

B := build

# db/: the session library every program links.
DB_SRC  := $(wildcard db/*.c)
DB_OBJ  := $(DB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/schema.o
DB_LIB  := $(B)/lib/libsessions.a

# wire/: what the front ends say to clients: the one table of error codes.
WIRE_SRC := $(wildcard wire/*.c)
WIRE_OBJ := $(WIRE_SRC:%.c=$(B)/obj/%.o)

# ctl/: sessionctl, the shop's command line.
CTL_SRC := $(wildcard ctl/*.c)

# cgi/: one program per endpoint, over the helpers they share.
CGI_HELPER := $(wildcard cgi/http.c cgi/ice_servers.c cgi/request.c)
CGI_SRC := $(filter-out $(CGI_HELPER),$(wildcard cgi/*.c))
CGI_BIN := $(CGI_SRC:cgi/%.c=$(B)/bin/api-%)
# cgi/NAME/: an API of several files (one per resource) is one program, api-NAME.
CGI_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard cgi/*/*.c))))
CGI_BIN += $(CGI_DIRS:cgi/%=$(B)/bin/api-%)

# relay/: one program.
RELAY_SRC := $(wildcard relay/*.c)
RELAY_BIN := $(if $(RELAY_SRC),$(B)/bin/relay)

# hooks/: sessions-webhooks, the webhook deliverer (libcurl).
HOOKS_SRC := $(wildcard hooks/*.c)
HOOKS_BIN := $(if $(HOOKS_SRC),$(B)/bin/sessions-webhooks)

# tests/: C unit tests, built plain and with ASan+UBSan.
UNIT_SRC  := $(wildcard tests/unit/*.test.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.test.c=$(B)/tests/%) \
             $(UNIT_SRC:tests/unit/%.test.c=$(B)/tests/asan-%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(B)/tests/%)

# tests/fuzz/: one libFuzzer harness per parser, built by clang under ASan+UBSan for
# make test (which replays the committed corpora) and make fuzz only, so make all needs no clang.
FUZZ_CC      ?= clang
FUZZ_SRC     := $(wildcard tests/fuzz/*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang also warns of designated initializers that leave fields out; -iquote keeps
# relay/limits.h from standing in for <limits.h>.
FUZZ_CFLAGS  := $(CSTD) $(WARN) -Wno-missing-field-initializers -O1 -g $(FUZZ_SAN) -Idb -Iwire \
                -iquote cgi -iquote cgi/v1 -iquote relay $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_UNITS   := $(DB_SRC) $(WIRE_SRC) cgi/request.c cgi/v1/input.c relay/frame.c relay/sdp.c relay/buf.c
FUZZ_OBJ     := $(FUZZ_UNITS:%.c=$(B)/fuzz/obj/%.o) $(B)/fuzz/obj/gen/schema.o
FUZZ_RUNS    ?= 10000000
FUZZ_SECONDS ?= 600

# bench/: load generators and measuring programs for make bench.
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

BINS := $(B)/bin/sessionctl $(CGI_BIN) $(RELAY_BIN) $(HOOKS_BIN)

.PHONY: all deps test-deps fuzz-deps run test fuzz bench soak clean install
all: deps $(BINS)

# Installs the Debian packages that are missing (needs root; otherwise says what to run).
deps:
	@sh deploy/deps.sh build

test-deps: deps
	@sh deploy/deps.sh test

fuzz-deps: deps
	@sh deploy/deps.sh fuzz

$(B)/obj/%.o: %.c $(wildcard db/*.h wire/*.h cgi/*.h cgi/*/*.h relay/*.h ctl/*.h hooks/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# A directory's files include the helpers' headers beside them.
$(CGI_DIRS:%=$(B)/obj/%/%.o): CFLAGS += -Icgi

# The schema and its upgrades are compiled in from db/, so they are written down once.
# schema.sql's two parts, split at its "-- @chat-file" line: the database's, the chat file's;
# db/upgrade/NNNN.sql upgrade the database, db/upgrade/chat/NNNN.sql the chat file.
UPGRADES := $(sort $(wildcard db/upgrade/*.sql))
CHAT_UPGRADES := $(sort $(wildcard db/upgrade/chat/*.sql))
define c_bytes
{ od -An -v -tx1 $(1) | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0x00 };'; }
endef
# $(1): the array's name, $(2): its files in order.
define c_upgrades
{ n=0; for f in $(2); do n=$$((n + 1)); \
    echo "static const char $(1)_$$n[] = {"; $(call c_bytes,$$f); done; \
  printf 'const char *const $(1)s[] = {'; \
  i=0; while [ $$i -lt $$n ]; do i=$$((i + 1)); printf ' $(1)_%d,' $$i; done; \
  echo ' 0 };'; }
endef
$(B)/gen/schema.c: db/schema.sql $(UPGRADES) $(CHAT_UPGRADES)
	@mkdir -p $(@D)
	sed '/^-- @chat-file$$/,$$d' $< > $(@D)/money.sql
	sed -n '/^-- @chat-file$$/,$$p' $< > $(@D)/chat.sql
	test -s $(@D)/chat.sql
	{ echo '/* schema.c: generated from db/schema.sql and db/upgrade/ by make; do not edit. */'; \
	  echo 'extern const char db_schema_sql[];'; \
	  echo 'extern const char db_chat_schema_sql[];'; \
	  echo 'extern const char *const db_upgrades[];'; \
	  echo 'extern const char *const db_chat_upgrades[];'; \
	  echo 'const char db_schema_sql[] = {'; $(call c_bytes,$(@D)/money.sql); \
	  echo 'const char db_chat_schema_sql[] = {'; $(call c_bytes,$(@D)/chat.sql); \
	  $(call c_upgrades,db_upgrade,$(UPGRADES)); \
	  $(call c_upgrades,db_chat_upgrade,$(CHAT_UPGRADES)); } > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/schema.o: $(B)/gen/schema.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) -c -o $@ $<

$(DB_LIB): $(DB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/sessionctl: $(CTL_SRC:%.c=$(B)/obj/%.o) $(WIRE_OBJ) $(DB_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

CGI_LIBS = $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi) \
	$(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
$(B)/bin/api-%: $(B)/obj/cgi/%.o $(CGI_HELPER:%.c=$(B)/obj/%.o) $(WIRE_OBJ) $(DB_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CGI_LIBS)

define cgi_dir_program
$(B)/bin/api-$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard cgi/$(1)/*.c)) $(CGI_HELPER:%.c=$(B)/obj/%.o) $(WIRE_OBJ) $(DB_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS) $$(CGI_LIBS)
endef
$(foreach d,$(CGI_DIRS:cgi/%=%),$(eval $(call cgi_dir_program,$(d))))

# The relay's loop is libev's (epoll), which lws joins.
RELAY_LIBS = $(shell pkg-config --libs libwebsockets 2>/dev/null) -lev -pthread
$(B)/bin/relay: $(RELAY_SRC:%.c=$(B)/obj/%.o) $(WIRE_OBJ) $(DB_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(RELAY_LIBS)

$(B)/obj/hooks/%.o: CFLAGS += $(shell pkg-config --cflags libcurl 2>/dev/null)
$(B)/bin/sessions-webhooks: $(HOOKS_SRC:%.c=$(B)/obj/%.o) $(DB_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

# Unit tests compile the library's sources themselves, once per flavour.
$(B)/tests/%: tests/unit/%.test.c $(DB_SRC) $(B)/gen/schema.c tests/unit/tap.h db/db.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(DB_SRC) $(B)/gen/schema.c $(LDLIBS)

$(B)/tests/asan-%: tests/unit/%.test.c $(DB_SRC) $(B)/gen/schema.c tests/unit/tap.h db/db.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SANITIZE) -Itests/unit -o $@ $< $(DB_SRC) $(B)/gen/schema.c $(LDLIBS)

# The relay's waiting chat is a unit of its own (no lws), compiled into its test.
$(B)/tests/relay_waiting $(B)/tests/asan-relay_waiting: relay/waiting.c relay/waiting.h

# The relay again under ASan+UBSan, for the suites that send it hostile frames.
SAN_RELAY := $(B)/tests/asan-relay
$(SAN_RELAY): $(RELAY_SRC) $(DB_SRC) $(WIRE_SRC) $(B)/gen/schema.c $(wildcard relay/*.h db/*.h wire/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SANITIZE) -o $@ $(RELAY_SRC) $(DB_SRC) $(WIRE_SRC) $(B)/gen/schema.c \
		$(LDLIBS) $(RELAY_LIBS)

# Small C programs the black-box tests drive (e.g. the crash loop).
$(B)/tests/%: tests/helpers/%.c $(WIRE_OBJ) $(DB_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The parsers are compiled again with coverage for libFuzzer; harnesses link what they call.
$(B)/fuzz/obj/gen/schema.o: $(B)/gen/schema.c | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CSTD) -O1 -g $(FUZZ_SAN) -c -o $@ $<

$(B)/fuzz/obj/%.o: %.c $(wildcard db/*.h wire/*.h cgi/*.h relay/*.h) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/fuzz/libfuzzed.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/libfuzzed.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(B)/bench/%: bench/%.c $(DB_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CGI_LIBS) $(shell pkg-config --libs libwebsockets 2>/dev/null)

run: all
	@sh deploy/run.sh

test: test-deps all $(UNIT_BIN) $(HELPER_BIN) $(SAN_RELAY) $(FUZZ_BIN)
	@bash tests/run

# Each harness for FUZZ_RUNS executions or FUZZ_SECONDS, whichever comes first.
fuzz: fuzz-deps $(FUZZ_BIN)
	@FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/fuzz.sh $(FUZZ_BIN)

bench: test-deps all $(HELPER_BIN) $(BENCH_BIN)
	@bash bench/run

# Ten minutes; not part of bench. SOAK_SECONDS etc. shorten it (bench/soak.bash).
soak: test-deps all $(BENCH_BIN)
	@bash bench/soak.bash

clean:
	rm -rf $(B)

# make install [PREFIX=/usr/local] [DESTDIR=...]: programs, pages, schema and
# the service files (docs/INSTALL.md). The configuration file and the nginx
# site are the administrator's: installed only when absent.
PREFIX  ?= /usr/local
SYSCONF := /etc
BINDIR  := $(PREFIX)/bin
LIBDIR  := $(PREFIX)/lib/sessions
SHARE   := $(PREFIX)/share/sessions
SUBST   := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@HTMLDIR@|$(SHARE)/html|g'
D       := $(DESTDIR)
install: all
	install -d $(D)$(BINDIR) $(D)$(LIBDIR) $(D)$(SHARE)/html \
		$(D)$(SYSCONF)/systemd/system $(D)$(SYSCONF)/cron.d $(D)$(SYSCONF)/nginx/sites-available
	install -d -m 0755 $(D)$(SYSCONF)/sessions
	install -m 0755 $(B)/bin/sessionctl $(D)$(BINDIR)/
	install -m 0755 $(CGI_BIN) $(RELAY_BIN) $(HOOKS_BIN) $(D)$(LIBDIR)/
	install -m 0755 deploy/sessions-run $(D)$(LIBDIR)/
	if [ -d html ]; then cp -R html/. $(D)$(SHARE)/html/; fi
	# The pages name their files by their version, so browsers that keep them for a year fetch new ones.
	sed -i "s|@VERSION@|$$(sh deploy/page-version.sh html)|g" $(D)$(SHARE)/html/session.html \
		$(D)$(SHARE)/html/console.html
	install -m 0644 db/schema.sql deploy/sessions.conf.example deploy/coturn/turnserver.conf \
		$(wildcard docs/*.md) $(D)$(SHARE)/
	$(SUBST) nginx/sessions.conf > $(D)$(SHARE)/nginx-sessions.conf
	for u in deploy/systemd/*; do \
		$(SUBST) $$u > $(D)$(SYSCONF)/systemd/system/$${u##*/} || exit 1; done
	# coturn (Debian's unit) beside the site: what it needs from systemd to relay calls.
	install -d $(D)$(SYSCONF)/systemd/system/coturn.service.d
	install -m 0644 deploy/coturn/coturn-sessions.conf $(D)$(SYSCONF)/systemd/system/coturn.service.d/sessions.conf
	$(SUBST) deploy/cron.d/sessions > $(D)$(SYSCONF)/cron.d/sessions
	[ -e $(D)$(SYSCONF)/nginx/sites-available/sessions ] || \
		install -m 0644 $(D)$(SHARE)/nginx-sessions.conf $(D)$(SYSCONF)/nginx/sites-available/sessions
	[ -e $(D)$(SYSCONF)/sessions/sessions.conf ] || \
		install -m 0640 deploy/sessions.conf.example $(D)$(SYSCONF)/sessions/sessions.conf
