# What gets built and installed.
#
# A program listed here needs src/holdingpen/<name>.c and
# src/holdingpen/deps-exe/<name> (what it links); a library named here needs
# src/<dir>/deps-lib/<name> (its objects). After adding or changing any of
# these, regenerate package/deps.mak:  make deps

BIN_TARGETS := \
holdingpen-daemon \
holdingpend \
holdingpen-claim \
holdingpen-status \
holdingpen-revoke

LIBEXEC_TARGETS := \
holdingpen-helper

# lib<name>.a, installed (with --enable-static, the default), plus
# lib<name>.so.<major>.<minor> built and installed with --enable-shared.
# The programs always link the static archive.
INSTALLED_LIBS := holdingpen

# lib<name>.a, linked into the programs, never installed.
INTERNAL_LIBS := hpwire hppool
