#
# This Makefile requires GNU make 3.82 or later.
#
# Nothing package-specific lives here:
#   config.mak           written by ./configure (directories, flags, options)
#   package/targets.mak  which programs and libraries exist
#   package/deps.mak     what each of them is made of (make deps regenerates it)
#

it: all

make_need := 3.82
ifeq "" "$(strip $(filter $(make_need), $(firstword $(sort $(make_need) $(MAKE_VERSION)))))"
fail := $(error Your make ($(MAKE_VERSION)) is too old. You need $(make_need) or newer)
endif

CC = $(error Please run ./configure first)

-include config.mak
include package/targets.mak

# 0.1.0.0 -> 0.1: the shared library's soname changes with the minor version
version_M := $(basename $(basename $(version)))

include package/deps.mak

CPPFLAGS_ALL = $(CPPFLAGS_AUTO) $(CPPFLAGS)
CFLAGS_ALL = $(CFLAGS_AUTO) $(CFLAGS)
LDFLAGS_ALL = $(LDFLAGS_AUTO) $(LDFLAGS)
CFLAGS_SHARED := -fPIC
RANLIB ?= ranlib
INSTALL := ./tools/install.sh
PROVE ?= prove
PROVE_FLAGS ?=

ALL_BINS := $(BIN_TARGETS) $(LIBEXEC_TARGETS)
STATIC_LIBS := $(INSTALLED_LIBS:%=lib%.a)
SHARED_LIBS := $(if $(DO_SHARED),$(INSTALLED_LIBS:%=lib%.so.$(version_M)))
ALL_INTERNAL_LIBS := $(INTERNAL_LIBS:%=lib%.a)
ALL_LIBS := $(ALL_INTERNAL_LIBS) $(STATIC_LIBS) $(SHARED_LIBS)
ALL_INCLUDES := $(sort $(wildcard src/include/$(package)/*.h) src/include/$(package)/config.h)
LOCAL_INCLUDES := $(wildcard src/include-local/*.h)

# Small C programs outside src/, linked like the programs: test probes (built
# by make check), client examples (make check), benchmarks (make bench, and
# make check for their smoke test).
PROBE_BINS := $(patsubst %.c,%,$(wildcard tests/probe/*.c))
PROBE_PRELOADS := $(patsubst %.c,%.so,$(wildcard tests/probe/preload/*.c))
EXAMPLE_BINS := $(patsubst %.c,%,$(wildcard examples/c/*.c))
BENCH_BINS := $(patsubst %.c,%,$(wildcard bench/*.c))
EXTRA_BINS := $(PROBE_BINS) $(EXAMPLE_BINS) $(BENCH_BINS)
EXTRA_BINS_LINK := $(ALL_INTERNAL_LIBS) $(STATIC_LIBS) -ls6 -lskarnet

# Every object and binary depends on this file, which changes only when the
# compiler, the flags, --enable-allstatic or the helper's skalibs do: "make CFLAGS=-fsanitize=..."
# after a plain build rebuilds everything instead of mixing instrumented and
# plain objects.
FLAGS_STAMP := .build-flags
FLAGS_NOW = $(CC) | $(CPPFLAGS_ALL) | $(CFLAGS_ALL) | $(LDFLAGS_ALL) | $(LDFLAGS_SHARED) | $(LDFLAGS_NOSHARED) | $(LDLIBS) | $(.LIBPATTERNS) | $(HELPER_SKARNET)
shquote = '$(subst ','\'',$(1))'

all: $(ALL_LIBS) $(ALL_BINS) $(ALL_INCLUDES)

$(FLAGS_STAMP): FORCE
	@printf '%s\n' $(call shquote,$(FLAGS_NOW)) > $@.tmp && \
	if cmp -s $@.tmp $@ ; then exec rm -f $@.tmp ; else exec mv -f $@.tmp $@ ; fi

src/include/$(package)/config.h:
	@echo "$@ is missing: run ./configure first" 1>&2 ; exit 1

%.o: %.c $(FLAGS_STAMP)
	exec $(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

%.lo: %.c $(FLAGS_STAMP)
	exec $(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(CFLAGS_SHARED) -c -o $@ $<

# The prerequisites of a program (from package/deps.mak) are its objects, the
# libraries built here, and -lfoo libraries that make resolves through the
# vpath lines of config.mak, to the .a with --enable-allstatic.
$(ALL_BINS): $(FLAGS_STAMP)
	$(if $(filter %.o,$^),,$(error $@: no objects: create src/$(package)/deps-exe/$@ and run make deps))
	exec $(CC) -o $@ $(CFLAGS_ALL) $(LDFLAGS_ALL) $(LDFLAGS_NOSHARED) $(filter-out $(FLAGS_STAMP),$^) $(EXTRA_LIBS) $(LDLIBS)

lib%.a: $(FLAGS_STAMP)
	$(if $(filter %.o,$^),,$(error $@: no objects: create its deps-lib file and run make deps))
	rm -f $@
	$(AR) rc $@ $(filter %.o,$^)
	exec $(RANLIB) $@

lib%.so.$(version_M): $(FLAGS_STAMP)
	exec $(CC) -o $@ $(CFLAGS_ALL) $(CFLAGS_SHARED) $(LDFLAGS_ALL) $(LDFLAGS_SHARED) -Wl,-soname,$@ $(filter %.lo,$^) $(EXTRA_LIBS) $(LDLIBS)

$(EXTRA_BINS): %: %.c $(EXTRA_BINS_LINK) $(ALL_INCLUDES) $(LOCAL_INCLUDES) $(FLAGS_STAMP)
	exec $(CC) -o $@ $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(LDFLAGS_NOSHARED) $< $(filter-out %.c %.h $(FLAGS_STAMP),$^) $(LDLIBS)

# Shims that tests put into a program with LD_PRELOAD: plain C and libc, no skalibs
$(PROBE_PRELOADS): %.so: %.c $(FLAGS_STAMP)
	exec $(CC) -o $@ $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(CFLAGS_SHARED) $(LDFLAGS_ALL) $(LDFLAGS_SHARED) $< -ldl

# and on the headers next to them
$(PROBE_BINS): $(wildcard tests/probe/*.h)
$(EXAMPLE_BINS): $(wildcard examples/c/*.h)
$(BENCH_BINS): $(wildcard bench/*.h)

probes: $(PROBE_BINS) $(PROBE_PRELOADS)
examples: $(EXAMPLE_BINS)
bench: $(BENCH_BINS)

# Tests get the absolute path of this tree in HP_BUILD, to find the binaries.
check: all probes examples bench
	@if test -z "$(wildcard tests/*.t)" ; then echo "make check: no tests/*.t to run" ; exit 0 ; fi ; \
	HP_BUILD='$(CURDIR)' ; export HP_BUILD ; exec $(PROVE) $(PROVE_FLAGS) tests/*.t

doc-check: $(if $(wildcard config.mak),all)
	@if test -f tests/doc-check.sh ; then HP_BUILD='$(CURDIR)' ; export HP_BUILD ; exec sh tests/doc-check.sh ; \
	else echo "make doc-check: no tests/doc-check.sh" ; fi

# The Debian packages, built in a clean copy of the tree (not from this
# build): see tools/deb.sh.
deb:
	exec ./tools/deb.sh dist/deb

deps:
	./tools/gen-deps-mak.sh > package/deps.mak.tmp
	exec mv -f package/deps.mak.tmp package/deps.mak

clean:
	@exec rm -f $(ALL_BINS) $(EXTRA_BINS) $(PROBE_PRELOADS) $(ALL_INTERNAL_LIBS) $(STATIC_LIBS) $(wildcard lib*.so.*) \
	  $(wildcard src/*/*.o src/*/*.lo) $(FLAGS_STAMP) $(FLAGS_STAMP).tmp

distclean: clean
	@exec rm -f config.mak src/include/$(package)/config.h $(package).pc

# Installation. DESTDIR is prepended to every path; nothing is built as root
# that was not built before, if "make" ran first.

define install_bin_rule
$(DESTDIR)$(1)/$(2): $(2) package/modes
	mode=$$$$(sed -n 's/^$(2)[[:space:]][[:space:]]*\([0-7][0-7]*\).*/\1/p' < package/modes) && \
	exec $(INSTALL) -D -m "$$$${mode:-0755}" $(2) $$@
endef
$(foreach p,$(BIN_TARGETS),$(eval $(call install_bin_rule,$(bindir),$(p))))
$(foreach p,$(LIBEXEC_TARGETS),$(eval $(call install_bin_rule,$(libexecdir),$(p))))

$(DESTDIR)$(libdir)/lib%.a: lib%.a
	exec $(INSTALL) -D -m 0644 $< $@

# lib.so.0.1.0.0 is the file, lib.so.0.1 (the soname) and lib.so link to it
$(DESTDIR)$(dynlibdir)/lib%.so: lib%.so.$(version_M)
	$(INSTALL) -D -m 0755 $< $@.$(version)
	$(INSTALL) -l $(@F).$(version) $@.$(version_M)
	exec $(INSTALL) -l $(@F).$(version_M) $@

$(DESTDIR)$(includedir)/$(package)/%.h: src/include/$(package)/%.h
	exec $(INSTALL) -D -m 0644 $< $@

$(DESTDIR)$(pkgconfigdir)/$(package).pc: $(package).pc
	exec $(INSTALL) -D -m 0644 $< $@

install: install-bin install-libexec install-lib install-dynlib install-include install-pkgconfig
install-bin: $(BIN_TARGETS:%=$(DESTDIR)$(bindir)/%)
install-libexec: $(LIBEXEC_TARGETS:%=$(DESTDIR)$(libexecdir)/%)
install-lib: $(if $(DO_STATIC),$(STATIC_LIBS:%=$(DESTDIR)$(libdir)/%))
install-dynlib: $(SHARED_LIBS:lib%.so.$(version_M)=$(DESTDIR)$(dynlibdir)/lib%.so)
install-include: $(ALL_INCLUDES:src/include/$(package)/%.h=$(DESTDIR)$(includedir)/$(package)/%.h)
install-pkgconfig: $(if $(DO_STATIC)$(DO_SHARED),$(DESTDIR)$(pkgconfigdir)/$(package).pc)

FORCE:

.PHONY: it all check doc-check probes examples bench deb deps clean distclean FORCE \
  install install-bin install-libexec install-lib install-dynlib install-include install-pkgconfig

.DELETE_ON_ERROR:
