# packs.mk: push Spectro Cloud Palette packs from a Makefile or CI with packpush.
#
# Use it on its own:
#   make -f scripts/packs.mk push-all PACKS_DIR=packs HARBOR_ADDRESS=harbor.example.com \
#        HARBOR_PROJECT=spectro-oci-registry HARBOR_USERNAME='robot$$packs+ci'
# or include it from your Makefile (set the variables before or after the include):
#   HARBOR_ADDRESS  = harbor.example.com
#   HARBOR_PROJECT  = spectro-oci-registry
#   HARBOR_USERNAME = robot$$packs+ci
#   include scripts/packs.mk
#
# Targets
#   doctor     check that oras and tar are present and usable
#   plan       show the exact commands that would push PACK (runs nothing)
#   push       push the pack folder PACK
#   plan-all   show the plan for every pack folder under PACKS_DIR
#   push-all   push every pack folder under PACKS_DIR (a folder holding a pack.json)
#
# Variables
#   PACKPUSH         the packpush program (default: packpush on PATH)
#   HARBOR_ADDRESS   registry host[:port], no https://
#   HARBOR_PROJECT   the Harbor project (it must exist)
#   HARBOR_USERNAME  the registry user; a robot account's '$' is written '$$' in a
#                    Makefile or on make's command line, and as is in the environment
#   HARBOR_PASSWORD  the password: export it in the environment (CI secrets do), or
#                    pipe it: printf '%s' "$PASS" | make push PACKPUSH_FLAGS=--password-stdin
#                    Never pass it on make's command line: every process listing shows it.
#   PACK             one pack folder (push, plan)
#   PACKS_DIR        the folder holding the pack folders (push-all, plan-all)
#   JOBS             packs pushed at a time by push-all (default 1)
#   PACKPUSH_FLAGS   more flags for push and plan, e.g. --plain-http --allow-newer-oras
#                    --oras /opt/oras/oras --output json
#   DOCTOR_FLAGS     flags for doctor (default: the --oras, --tar, --allow-newer-oras,
#                    --output, --quiet and --verbose flags of PACKPUSH_FLAGS)
#   REPRODUCIBLE     auto (default): push and plan with --reproducible when the tar packpush
#                    uses (PACKPUSH_TAR, else tar on PATH) is GNU tar 1.28 or later, so that a
#                    re-run of unchanged packs from a fresh checkout is up to date (tar does
#                    not even run); yes: always; no: never (the documented tar -czvf)
#
# packpush never prompts here (--non-interactive): a missing value fails with exit 3
# and names both the flag and the environment variable. The exit codes are packpush's
# (see its README), so `make` stops on the first failing target.

# Including this file must not change the including Makefile's default goal.
_packs_default_goal := $(.DEFAULT_GOAL)
_packs_file := $(lastword $(MAKEFILE_LIST))

PACKPUSH ?= packpush
PACKS_DIR ?= packs
JOBS ?= 1
PACKPUSH_FLAGS ?=
DOCTOR_FLAGS ?= $(call _packs_tool_flags,$(PACKPUSH_FLAGS))
REPRODUCIBLE ?= auto

# --reproducible when asked for, or (auto) when the tar packpush will use is GNU tar
# 1.28 or later; asked only by the targets that push or plan.
_packs_tar = $(or $(PACKPUSH_TAR),tar)
_packs_gnu_tar = $(shell $(_packs_tar) --version 2>/dev/null | head -n 1 | \
	grep -Eq '^tar \(GNU tar\) (1\.(2[89]|[3-9][0-9])|[2-9][0-9]*\.)' && echo yes)
_packs_reproducible = $(if $(filter yes,$(REPRODUCIBLE)),--reproducible,$(if \
	$(filter auto,$(REPRODUCIBLE)),$(if $(_packs_gnu_tar),--reproducible)))

# packpush reads these from its environment, so make never expands them into a
# command line: a value from the environment reaches packpush byte for byte (a
# robot account's '$' included), and one from a Makefile or make's command line
# after make's own '$$' -> '$'. The password never appears in a command.
export HARBOR_ADDRESS HARBOR_PROJECT HARBOR_USERNAME HARBOR_PASSWORD

# `export` hands an unset variable to the shell as an empty one: unset those
# again so that packpush reports them as missing rather than empty.
_packs_env = \
	test -n "$${HARBOR_ADDRESS-}" || unset HARBOR_ADDRESS; \
	test -n "$${HARBOR_PROJECT-}" || unset HARBOR_PROJECT; \
	test -n "$${HARBOR_USERNAME-}" || unset HARBOR_USERNAME; \
	test -n "$${HARBOR_PASSWORD-}" || unset HARBOR_PASSWORD;

# One shell word: 'VALUE', with any ' inside escaped.
_packs_quote = '$(subst ','\'',$(1))'

# The flags of $(1) that doctor accepts: --oras/--tar/--output with their value
# (as two words or with '='), --allow-newer-oras, -q/--quiet, -v/--verbose.
_packs_tool_flags = $(if $(1),$(if $(filter --oras --tar --output,$(firstword $(1))),$(wordlist 1,2,$(1)) $(call _packs_tool_flags,$(wordlist 3,$(words $(1)),$(1))),$(filter --allow-newer-oras --oras=% --tar=% --output=% -q --quiet -v --verbose,$(firstword $(1))) $(call _packs_tool_flags,$(wordlist 2,$(words $(1)),$(1)))))

_packs_need_pack = $(if $(strip $(PACK)),,$(error PACK is not set: make $@ PACK=path/to/pack-folder))

.PHONY: doctor plan push plan-all push-all packs-help

packs-help:
	@echo 'targets: doctor, plan PACK=DIR, push PACK=DIR, plan-all PACKS_DIR=DIR, push-all PACKS_DIR=DIR'
	@echo 'variables: HARBOR_ADDRESS HARBOR_PROJECT HARBOR_USERNAME (HARBOR_PASSWORD exported or piped)'
	@echo '           PACKPUSH PACKPUSH_FLAGS DOCTOR_FLAGS JOBS REPRODUCIBLE; see the top of $(_packs_file)'

doctor:
	@$(_packs_env) \
	exec $(PACKPUSH) doctor --non-interactive $(DOCTOR_FLAGS)

plan:
	$(_packs_need_pack)
	@$(_packs_env) \
	exec $(PACKPUSH) push $(call _packs_quote,$(PACK)) --dry-run --non-interactive $(_packs_reproducible) $(PACKPUSH_FLAGS)

push:
	$(_packs_need_pack)
	@$(_packs_env) \
	exec $(PACKPUSH) push $(call _packs_quote,$(PACK)) --non-interactive $(_packs_reproducible) $(PACKPUSH_FLAGS)

plan-all:
	@$(_packs_env) \
	exec $(PACKPUSH) push --from $(call _packs_quote,$(PACKS_DIR)) --dry-run --non-interactive $(_packs_reproducible) $(PACKPUSH_FLAGS)

push-all:
	@$(_packs_env) \
	exec $(PACKPUSH) push --from $(call _packs_quote,$(PACKS_DIR)) --jobs $(JOBS) --non-interactive $(_packs_reproducible) $(PACKPUSH_FLAGS)

# Run on its own (make -f packs.mk), the default goal is packs-help; included,
# the including Makefile keeps its own.
ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := packs-help
else
.DEFAULT_GOAL := $(_packs_default_goal)
endif
