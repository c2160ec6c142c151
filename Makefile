# Theta — top-level build. GNU Make; see README.md for the commands.
#
#   make            build everything (installs missing Debian packages first)
#   make test       build and run every test binary; last line "N passed, N failed"
#   make bench      run every benchmark, figures into build/bench/results.json
#   make bench-AREA run one area's benchmarks (ipc, ecs, clog, quic, loop, ...)
#   make fuzz-AREA  run that area's libFuzzer targets (FUZZ_SECONDS, default 60)
#   make presence-dict  train schemas/presence.dict again (docs/presence.md)
#   make demo       start a daemon in a temporary dir and show it working
#   make converge-test  3 daemons, 4 clients, 10 k edits, faults: the same world (slow)
#   make install    PREFIX=/usr/local DESTDIR=
#   make SAN=1 ...  ASan + UBSan build (objects go to build-san/)
#   V=1             show the commands

PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/theta
# Bash completion goes where bash-completion looks (its pkg-config file says;
# scripts/setup installs it), else under PREFIX.
BASHCOMPDIR ?= $(or $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
SYSTEMDUNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
SYSUSERSDIR ?= $(shell $(PKG_CONFIG) --variable=sysusersdir systemd 2>/dev/null || echo /usr/lib/sysusers.d)
TMPFILESDIR ?= $(shell $(PKG_CONFIG) --variable=tmpfilesdir systemd 2>/dev/null || echo /usr/lib/tmpfiles.d)
CC         ?= cc
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(SAN),1)
B := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B := build
SANFLAGS :=
endif

# Install missing Debian packages once (stamp); every build target depends on it.
SETUP_STAMP := build/.setup-stamp
$(SETUP_STAMP): scripts/setup
	$(Q)mkdir -p build
	$(Q)bash scripts/setup
	$(Q)touch $@

# Libraries each binary links; pkg-config is asked only after setup ran.
PKGS_COMMON := libsodium json-c libsystemd
PKGS_THETAD := libngtcp2 libngtcp2_crypto_gnutls gnutls libzstd opus libpulse-simple libpulse libmicrohttpd usrsctp
PKGS_CLIENT := vulkan openxr glfw3 libzstd libpng
PKGS_TEST   := cmocka x11 speexdsp
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)
# thetad's C++ (thetad/**/*.cc: the shim over webrtc-audio-processing's voice
# detection, docs/voice.md "Who is speaking"), compiled with $(CXX) and linked
# with libstdc++. Without the library (scripts/setup installs it) the shim is
# left out and thetad builds with the energy detector only.
CXX        ?= g++
PKGS_WEBRTC := webrtc-audio-processing
HAVE_WEBRTC := $(shell $(PKG_CONFIG) --exists $(PKGS_WEBRTC) 2>/dev/null && echo 1)
THETAD_CXX_SRC := $(if $(HAVE_WEBRTC),$(shell find thetad -name '*.cc' 2>/dev/null))
WEBRTC_DEFS := $(if $(HAVE_WEBRTC),-DVOICE_HAVE_WEBRTC=1)
WEBRTC_LIBS := $(if $(HAVE_WEBRTC),$(call pc_libs,$(PKGS_WEBRTC)) -lstdc++)

WERROR := $(if $(CI),-Werror,)
CFLAGS ?= -O2 -g
# -Wno-format-truncation: snprintf truncating a message is the intended, safe outcome.
BASE_CFLAGS := -std=gnu17 -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -Wshadow -Wvla \
	-fno-strict-aliasing -D_GNU_SOURCE -pthread -MMD -MP $(WERROR) $(SANFLAGS)
LDFLAGS_ALL := -pthread $(SANFLAGS)

THETA_VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
BASE_CFLAGS += -DTHETA_VERSION='"$(THETA_VERSION)"'
# Where `make install` puts the browser client: thetad's web.root default
# (thetad/srv/config.h), seen by every object so tests compare the same
# value. The objects that read it are rebuilt when it changes (WEB_STAMP).
WEBDIR      ?= $(PREFIX)/share/theta/web
WEB_DEFS    := -DSRV_WEB_ROOT_DEFAULT='"$(WEBDIR)"'
BASE_CFLAGS += $(WEB_DEFS)

# Include paths enforce the dependency direction: thetad and theta-client see
# common/ and proto/ and their own tree, never each other.
INC_COMMON := -Icommon -Iproto -Ischemas
INC_THETAD := $(INC_COMMON) -Ithetad
INC_CLIENT := $(INC_COMMON) -Itheta-client
INC_CTL    := $(INC_COMMON) -Ithetactl
INC_TEST   := $(INC_COMMON) -Ithetad -Itheta-client -Ithetactl -Itests/lib

rwildcard = $(foreach d,$(wildcard $(1:=/*)),$(call rwildcard,$d,$2) $(if $(filter $(subst *,%,$2),$(notdir $d)),$d))

COMMON_SRC := $(call rwildcard,common,*.c) $(call rwildcard,proto,*.c) $(call rwildcard,schemas,*.c)
THETAD_SRC := $(filter-out thetad/main.c,$(call rwildcard,thetad,*.c))
CLIENT_SRC := $(filter-out theta-client/main.c,$(call rwildcard,theta-client,*.c))
CTL_SRC    := $(filter-out thetactl/main.c,$(call rwildcard,thetactl,*.c))
TESTLIB_SRC := $(call rwildcard,tests/lib,*.c)
TEST_SRC   := $(filter-out tests/fuzz/% tests/bench/% tests/lib/%,$(call rwildcard,tests,test_*.c))
BENCH_SRC  := $(call rwildcard,tests/bench,bench_*.c)
FUZZ_SRC   := $(call rwildcard,tests/fuzz,fuzz_*.c)
# Helpers the demo runs (tests/tools/*.c, linked like tests).
TOOL_SRC   := $(call rwildcard,tests/tools,*.c)
# The presence load generator (tests/load/README.md): tests/load/theta_load.c
# and load_*.c, linked like tests; test_load, bench-presence and
# soak-presence run it against a real host thetad.
LOAD_SRC   := tests/load/theta_load.c $(wildcard tests/load/load_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

# The renderer's GLSL shaders (theta-client/gfx/shaders/NAME.vert|frag),
# compiled by glslc into headers embedding the SPIR-V:
# $(B)/gen/gfx/shaders/NAME.vert.h holds `static const uint32_t
# gfx_spv_NAME_vert[]`. theta-client objects and tests see them through
# -I$(B)/gen and wait for them (order-only; -MMD tracks the real includes).
GLSLC ?= glslc
SHADER_SRC := $(wildcard theta-client/gfx/shaders/*.vert theta-client/gfx/shaders/*.frag)
SHADER_HDRS := $(patsubst theta-client/gfx/shaders/%,$(B)/gen/gfx/shaders/%.h,$(SHADER_SRC))
INC_GEN := -I$(B)/gen

# The UI's font atlas (docs/ui.md, "Text"): tools/ui-font/ui_font_gen, a
# build-time program linked with FreeType (libfreetype-dev), rasterises
# Debian's DejaVuSans.ttf (fonts-dejavu-core) into $(UI_FONT_HDR), which
# defines the client's struct ui_font; theta-client objects and tests wait
# for it as for the shader headers (order-only). The font is a prerequisite
# only when it exists, so a missing one gets the generator's own sentence;
# the Makefile is one too (UI_FONT_PX).
UI_FONT_TTF ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
UI_FONT_PX  := 16
UI_FONT_GEN := $(B)/tools/ui-font/ui_font_gen
UI_FONT_HDR := $(B)/gen/ui/ui_font_atlas.h

LIB_COMMON := $(B)/lib/libthcommon.a
LIB_THETAD := $(B)/lib/libthetad.a
LIB_CLIENT := $(B)/lib/libthclient.a
LIB_CTL    := $(B)/lib/libthctl.a
LIB_TEST   := $(B)/lib/libthtest.a

BIN_THETAD := $(B)/bin/thetad
BIN_CLIENT := $(B)/bin/theta-client
BIN_CTL    := $(B)/bin/thetactl
BINS := $(BIN_THETAD) $(BIN_CLIENT) $(BIN_CTL)

TEST_BINS  := $(patsubst %.c,$(B)/%,$(TEST_SRC))
BENCH_BINS := $(patsubst %.c,$(B)/%,$(BENCH_SRC))
FUZZ_BINS  := $(patsubst %.c,$(B)/%,$(FUZZ_SRC))
TOOL_BINS  := $(patsubst %.c,$(B)/%,$(TOOL_SRC))
THETA_LOAD := $(B)/tests/load/theta-load

LIBS_ALL := $(call pc_libs,$(PKGS_COMMON) $(PKGS_THETAD) $(PKGS_CLIENT)) $(WEBRTC_LIBS) -lm -ldl
CFLAGS_PKGS := $(call pc_cflags,$(PKGS_COMMON) $(PKGS_THETAD) $(PKGS_CLIENT) $(PKGS_TEST))

.PHONY: all setup test test-unit bench bench-voice gpu-bench-bins fuzz demo install uninstall clean crash-test catchup-test converge-test
CRASH_ROUNDS ?= 100
.DEFAULT_GOAL := all

all: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(XRT_SO) $(XRT_JSON) web

setup: $(SETUP_STAMP)

# Per-tree compile rules: the include path is chosen by where the file lives.
$(B)/obj/thetad/%.o: thetad/%.c | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(CFLAGS_PKGS) $(WEBRTC_DEFS) $(INC_THETAD) -c $< -o $@
# thetad's C++; the library's headers are system headers (-isystem): their
# warnings are not ours.
CXXFLAGS ?= -O2 -g
BASE_CXXFLAGS := -std=gnu++14 -Wall -Wextra -Wno-unused-parameter -Wshadow -fno-exceptions -fno-rtti \
	-fno-strict-aliasing -D_GNU_SOURCE -pthread -MMD -MP $(WERROR) $(SANFLAGS)
$(B)/obj/thetad/%.o: thetad/%.cc | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) $(BASE_CXXFLAGS) $(CXXFLAGS) $(patsubst -I%,-isystem %,$(call pc_cflags,$(PKGS_WEBRTC))) $(INC_THETAD) \
		-c $< -o $@
$(B)/obj/theta-client/%.o: theta-client/%.c | $(SETUP_STAMP) $(SHADER_HDRS) $(UI_FONT_HDR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(CFLAGS_PKGS) $(INC_CLIENT) $(INC_GEN) -c $< -o $@
$(B)/obj/thetactl/%.o: thetactl/%.c | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(CFLAGS_PKGS) $(INC_CTL) -c $< -o $@
$(B)/obj/tests/%.o: tests/%.c | $(SETUP_STAMP) $(SHADER_HDRS) $(UI_FONT_HDR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(CFLAGS_PKGS) $(WEBRTC_DEFS) $(INC_TEST) $(INC_GEN) -c $< -o $@
$(B)/obj/%.o: %.c | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(CFLAGS_PKGS) $(INC_COMMON) -c $< -o $@

# glslc's dependency file names the shader's includes; each also gets an
# empty rule (like -MP) so a removed include does not stop the build. A
# static pattern rule: the headers are explicit targets, so the compile
# rules above that wait for them are chosen over the generic one.
# $(call spv_header,PREFIX): the recipe, for these and the benchmark's
# shaders below; the array is PREFIX_NAME_vert.
define spv_header
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GLSLC   $<")
	$(Q)$(GLSLC) --target-env=vulkan1.3 -O -mfmt=c -MD -MF $@.d -MT $@ -o $@.spv $<
	$(Q)sed -n 's/^[^:]*: *//p' $@.d | tr ' ' '\n' | sed '/^$$/d; s/$$/:/' >> $@.d
	$(Q){ echo "/* Generated from $< by glslc: do not edit. */"; echo "#pragma once"; \
		echo "#include <stdint.h>"; echo "static const uint32_t $(1)_$(subst .,_,$*)[] ="; \
		cat $@.spv; echo ";"; } > $@.tmp && rm -f $@.spv && mv $@.tmp $@
endef
$(SHADER_HDRS): $(B)/gen/gfx/shaders/%.h: theta-client/gfx/shaders/% | $(SETUP_STAMP)
	$(call spv_header,gfx_spv)

# The presence dictionary (schemas/presence.dict, docs/presence.md "The frame"):
# proto/pres.c compresses presence frames with it and includes it as
# $(PRES_DICT_H), a C array written with od (coreutils: every Debian has it).
# `make presence-dict` trains it again from frames the codec codes
# (tests/tools/pres_train.c); its hash is part of the session handshake.
PRES_DICT   := schemas/presence.dict
PRES_DICT_H := $(B)/gen/pres/presence_dict.h
$(PRES_DICT_H): $(PRES_DICT)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q){ echo "/* Generated from $< by the Makefile: do not edit. */"; \
		echo "#define PRES_DICT_LEN $$(wc -c < $<)u"; \
		echo "static const unsigned char pres_dict_bytes[PRES_DICT_LEN + 1] = {"; \
		od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; echo "0 };"; } > $@.tmp && mv $@.tmp $@
$(call obj,proto/pres.c): $(PRES_DICT_H)
$(call obj,proto/pres.c): INC_COMMON += $(INC_GEN)
.PHONY: presence-dict
presence-dict: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(B)/tests/tools/pres_train
	$(Q)$(B)/tests/tools/pres_train $(PRES_DICT)

# Built without the sanitizers: it runs at build time only.
$(UI_FONT_GEN): tools/ui-font/ui_font_gen.c | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=gnu17 -Wall -Wextra -Wshadow -Wvla $(WERROR) -O2 $(call pc_cflags,freetype2) -o $@ $< \
		$(call pc_libs,freetype2)
$(UI_FONT_HDR): $(UI_FONT_GEN) $(wildcard $(UI_FONT_TTF)) Makefile
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(UI_FONT_GEN) $(UI_FONT_TTF) $(UI_FONT_PX) $@

define mklib
$(1): $(call obj,$(2))
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(eval $(call mklib,$(LIB_COMMON),$(COMMON_SRC)))
$(eval $(call mklib,$(LIB_THETAD),$(THETAD_SRC)))
$(LIB_THETAD): $(patsubst %.cc,$(B)/obj/%.o,$(THETAD_CXX_SRC))
$(eval $(call mklib,$(LIB_CLIENT),$(CLIENT_SRC)))
$(eval $(call mklib,$(LIB_CTL),$(CTL_SRC)))
$(eval $(call mklib,$(LIB_TEST),$(TESTLIB_SRC)))

$(BIN_THETAD): $(B)/obj/thetad/main.o $(LIB_THETAD) $(LIB_COMMON)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)
$(BIN_CLIENT): $(B)/obj/theta-client/main.o $(LIB_CLIENT) $(LIB_COMMON)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)
$(BIN_CTL): $(B)/obj/thetactl/main.o $(LIB_CTL) $(LIB_COMMON)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

# ---- the browser client (web/, docs/web.md, web/README.md) ------------------------------
# $(B)/web is what thetad's web module serves: web/'s files copied (not
# web/wasm/ nor the README), js/gen/ipc_msgs.js written by tools/webgen/gen_ipc_js from
# proto/ipc_msgs.def, and wasm/theta.wasm: the fold of common/ (and the
# editor's palette, transform helpers and the renderer's triangulation)
# compiled by clang-14 for wasm32-wasi against Debian's wasi-libc, with
# web/wasm/'s BLAKE2b and SipHash for libsodium (web/wasm/include/sodium.h)
# and only tw.h's functions exported. Without clang-14, lld-14, wasi-libc or
# clang's wasm32 builtins the build says so in one line and $(B)/web has no
# theta.wasm (one left from an earlier build is removed: it would be stale;
# the tests that need it say SKIP). `make install` copies
# $(B)/web to $(WEBDIR), which thetad takes as web.root's default
# (SRV_WEB_ROOT_DEFAULT, WEB_DEFS above); a thetad run from the source tree
# is given web.root = build/web (the test harness does that).
WASM_CC     ?= clang-14
WASI_INC    ?= /usr/include/wasm32-wasi
WASI_LIBC   ?= /usr/lib/wasm32-wasi/libc.a
WASM_RESDIR := $(shell $(WASM_CC) -print-resource-dir 2>/dev/null)
WASM_RT     ?= $(WASM_RESDIR)/lib/wasi/libclang_rt.builtins-wasm32.a
HAVE_WASM   := $(shell command -v $(WASM_CC) >/dev/null 2>&1 && command -v wasm-ld-14 >/dev/null 2>&1 && \
	test -f $(WASI_LIBC) && test -f $(WASI_INC)/stdlib.h && test -f "$(WASM_RT)" && echo 1)
WASM_COMMON := th_fold th_scene th_mesh th_mesh_enc th_meshop_prim th_meshop_sort th_meshop_subdiv th_meshop_topo \
	th_meshop_xform th_patch th_payload th_cmd th_schema th_logrec th_buf th_crc32c th_journal th_hash th_id \
	th_sorted th_array th_utf8
WASM_SRC    := $(patsubst %,common/%.c,$(WASM_COMMON)) theta-client/gfx/gfx_mesh.c theta-client/edit/edit_pick.c \
	theta-client/edit/edit_palette.c $(wildcard web/wasm/*.c)
WASM_OBJ    := $(patsubst %.c,$(B)/obj/wasm/%.o,$(WASM_SRC))
# -Wno-unused-variable: th_crc32c.c's hardware flag is read on x86 only.
WASM_CFLAGS := --target=wasm32-wasi -nostdlibinc -isystem web/wasm/include -isystem $(WASM_RESDIR)/include \
	-isystem $(WASI_INC) -include web/wasm/tw_libc.h -std=gnu17 -O2 -Wall -Wextra -Wno-unused-parameter \
	-Wno-unused-variable -Wshadow -Wvla -D_GNU_SOURCE -MMD -MP $(WERROR) $(INC_COMMON) -Itheta-client -Iweb/wasm
# The fold's stack: a step keeps a payload of up to 2048 mesh ops on it (wasm-ld's default is 64 KiB).
# --stack-first puts it below the data, so running past it traps instead of overwriting the heap.
WASM_STACK  := 4194304
WEB_OUT     := $(B)/web
WASM_OUT    := $(WEB_OUT)/wasm/theta.wasm
WEB_GEN_JS  := $(WEB_OUT)/js/gen/ipc_msgs.js
WEB_GEN     := $(B)/tools/webgen/gen_ipc_js
# Every file of web/ but theta.wasm's sources and the README (rwildcard lists folders too).
WEB_STATIC  := $(foreach f,$(filter-out web/wasm/% web/README.md,$(call rwildcard,web,*)),$(if $(wildcard $f/.),,$f))
WEB_FILES   := $(patsubst web/%,$(WEB_OUT)/%,$(WEB_STATIC)) $(WEB_GEN_JS) $(if $(HAVE_WASM),$(WASM_OUT))
WEB_ALL     := $(WEB_FILES) $(if $(HAVE_WASM),,web-no-wasm)
.PHONY: web web-no-wasm
web: $(WEB_ALL)
web-no-wasm:
	@rm -f $(WASM_OUT) $(WASM_OUT).tmp
	@echo "  WEB     no theta.wasm: $(WASM_CC), wasm-ld-14, wasi-libc or clang's wasm32 builtins missing (scripts/setup installs them); the browser client cannot fold"
WEB_STAMP   := $(B)/gen/web_root.stamp
$(shell mkdir -p $(B)/gen && { echo '$(WEBDIR)' | cmp -s - $(WEB_STAMP) || echo '$(WEBDIR)' > $(WEB_STAMP); })
$(call obj,thetad/srv/config.c) $(call obj,tests/thetad/web/test_web_addr.c): $(WEB_STAMP)
$(B)/obj/wasm/%.o: %.c | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  WASMCC  $<")
	$(Q)$(WASM_CC) $(WASM_CFLAGS) -c $< -o $@
$(WASM_OUT): $(WASM_OBJ) web/wasm/tw.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  WASMLD  $@")
	$(Q)$(WASM_CC) --target=wasm32-wasi -fuse-ld=lld -nostdlib -o $@.tmp $(WASM_OBJ) $(WASI_LIBC) $(WASM_RT) \
		-Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all -Wl,--stack-first -Wl,-z,stack-size=$(WASM_STACK) \
		$(WERROR:-Werror=-Wl,--fatal-warnings) && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }
$(WEB_GEN): tools/webgen/gen_ipc_js.c $(LIB_COMMON) | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(INC_COMMON) -o $@ $< $(LIB_COMMON) $(LIBS_ALL)
$(WEB_GEN_JS): $(WEB_GEN)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(WEB_GEN) $@
$(WEB_OUT)/%: web/%
	@mkdir -p $(@D)
	$(Q)cp $< $@

# The GPU benchmark's own shaders (its bare baseline), the same way (spv_header): tests/bench/gfx/shaders/NAME.vert
# -> $(B)/gen/bench/gfx/NAME.vert.h holding `static const uint32_t bench_spv_NAME_vert[]` (-I$(B)/gen).
BENCH_SHADER_SRC := $(wildcard tests/bench/gfx/shaders/*.vert tests/bench/gfx/shaders/*.frag)
BENCH_SHADER_HDRS := $(patsubst tests/bench/gfx/shaders/%,$(B)/gen/bench/gfx/%.h,$(BENCH_SHADER_SRC))
$(BENCH_SHADER_HDRS): $(B)/gen/bench/gfx/%.h: tests/bench/gfx/shaders/% | $(SETUP_STAMP)
	$(call spv_header,bench_spv)
$(call obj,tests/bench/gfx/bench_gfx_gpu.c): $(BENCH_SHADER_HDRS)

# Tests and benchmarks link every library (tests may reach into any module).
TEST_LINK := $(LIB_TEST) $(LIB_THETAD) $(LIB_CLIENT) $(LIB_CTL) $(LIB_COMMON)
$(B)/tests/%: $(B)/obj/tests/%.o $(TEST_LINK)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $< $(TEST_LINK) $(LIBS_ALL) $(call pc_libs,$(PKGS_TEST))

$(THETA_LOAD): $(call obj,$(LOAD_SRC)) $(TEST_LINK)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $(call obj,$(LOAD_SRC)) $(TEST_LINK) $(LIBS_ALL)

# The renderer's benchmarks and render tests for a machine without this build's libraries
# (scripts/gpu-bench packs them with the Debian packages they need and the OpenXR test runtime):
# linked --as-needed, so they need only what they call.
GPU_BENCH_BINS := $(B)/gpu/bench_gfx_gpu $(B)/gpu/bench_gfx_upload $(B)/gpu/bench_gfx_frame $(B)/gpu/bench_gfx_ui
GPU_TEST_BINS := $(B)/gpu/test_gfx_ui $(B)/gpu/test_gfx_draw $(B)/gpu/test_gfx_golden
$(B)/gpu/bench_gfx_%: $(B)/obj/tests/bench/gfx/bench_gfx_%.o $(TEST_LINK)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -Wl,--as-needed -o $@ $< $(TEST_LINK) $(LIBS_ALL)
$(B)/gpu/test_gfx_%: $(B)/obj/tests/theta-client/gfx/test_gfx_%.o $(TEST_LINK)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -Wl,--as-needed -o $@ $< $(TEST_LINK) $(LIBS_ALL) $(call pc_libs,$(PKGS_TEST))
# Their objects are the tests' and benchmarks' own: kept (not removed as intermediates).
.SECONDARY: $(patsubst $(B)/gpu/%,$(B)/obj/tests/bench/gfx/%.o,$(GPU_BENCH_BINS)) \
	$(patsubst $(B)/gpu/%,$(B)/obj/tests/theta-client/gfx/%.o,$(GPU_TEST_BINS))
gpu-bench-bins: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(GPU_BENCH_BINS) $(GPU_TEST_BINS) $(XRT_SO) $(XRT_JSON)

test: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(TEST_BINS) $(TOOL_BINS) $(THETA_LOAD) $(XRT_SO) $(XRT_JSON) web
	$(Q)THETA_BUILD=$(B) $(XRT_LSAN) bash scripts/run-tests $(TEST_BINS)

# The OpenXR test runtime (tests/xrt/, docs/xr-test-runtime.md): a shared
# library the Khronos loader opens through XR_RUNTIME_JSON=$(XRT_JSON), with
# the PNG writer compiled in (position-independent objects under obj/pic/;
# only xrNegotiateLoaderRuntimeInterface is exported; --no-undefined: a
# dependency the runtime's sources grow on the project's libraries fails
# here, not at the loader's dlopen).
XRT_SRC  := $(call rwildcard,tests/xrt,xrt_*.c) theta-client/gfx/gfx_png.c theta-client/inp/script.c \
	theta-client/inp/null.c common/th_file.c
XRT_OBJ  := $(patsubst %.c,$(B)/obj/pic/%.o,$(XRT_SRC))
XRT_SO   := $(B)/tests/xrt/libtheta_xrt.so
XRT_JSON := $(B)/tests/xrt/theta_xrt.json
# Under ASan the loader's one known leak per instance (tests/xrt/lsan.supp)
# is suppressed for every test: only processes that load the loader match it.
XRT_LSAN := $(if $(filter 1,$(SAN)),LSAN_OPTIONS="$${LSAN_OPTIONS:+$$LSAN_OPTIONS:}suppressions=$(CURDIR)/tests/xrt/lsan.supp:print_suppressions=0")
$(B)/obj/pic/%.o: %.c | $(SETUP_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (pic)")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden $(call pc_cflags,vulkan openxr libpng) \
		$(INC_COMMON) -Itheta-client -Itests/xrt -c $< -o $@
$(XRT_SO): $(XRT_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,--no-undefined $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(call pc_libs,vulkan libpng) -lm
$(XRT_JSON): $(XRT_SO)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)printf '{\n  "file_format_version": "1.0.0",\n  "runtime": {\n    "name": "Theta test runtime (xrt)",\n    "library_path": "./libtheta_xrt.so"\n  }\n}\n' >$@

# make bench-ecs runs tests/bench/ecs/bench_*.c; each prints JSON lines of figures.
bench: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(BENCH_BINS) $(TOOL_BINS)
	$(Q)THETA_BUILD=$(B) bash scripts/run-bench $(BENCH_BINS)
bench-%: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(filter $(B)/tests/bench/$*/%,$(BENCH_BINS))
	$(Q)THETA_BUILD=$(B) bash scripts/run-bench $(filter $(B)/tests/bench/$*/%,$(BENCH_BINS))
# make bench-voice: every tests/bench/voice/bench_*.c; bench_voice_e2e's
# baseline is tests/tools/pcm_relay (docs/voice.md, "Figures").
bench-voice: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(B)/tests/tools/pcm_relay $(filter $(B)/tests/bench/voice/%,$(BENCH_BINS))
	$(Q)THETA_BUILD=$(B) bash scripts/run-bench $(filter $(B)/tests/bench/voice/%,$(BENCH_BINS))

# make bench-presence: a host thetad with 8, 16, 32 and 64 members of
# theta-load for PRES_SECONDS each (tests/bench/presence/bench_presence.c,
# docs/presence.md "Load and figures"); make soak-presence: 64 members for
# SOAK_MINUTES, the host's RSS flat and nothing reliable lost.
PRES_SECONDS ?= 60
SOAK_MINUTES ?= 10
.PHONY: bench-presence soak-presence
bench-presence: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(THETA_LOAD) $(filter $(B)/tests/bench/presence/%,$(BENCH_BINS))
	$(Q)THETA_BUILD=$(B) PRES_SECONDS=$(PRES_SECONDS) bash scripts/run-bench $(filter $(B)/tests/bench/presence/%,$(BENCH_BINS))
soak-presence: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(THETA_LOAD) $(B)/tests/load/soak_presence
	$(Q)THETA_BUILD=$(B) SOAK_MINUTES=$(SOAK_MINUTES) $(B)/tests/load/soak_presence

# libFuzzer targets: tests/fuzz/AREA/fuzz_*.c, built with clang against the sources they need.
FUZZ_CFLAGS := -std=gnu17 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined $(INC_TEST) $(INC_GEN) $(CFLAGS_PKGS) \
	-DTHETA_VERSION='"$(THETA_VERSION)"'
# Test-library sources without cmocka that fuzz targets share with the tests.
FUZZ_TESTLIB := tests/lib/th_meshpick.c tests/lib/th_dtlsmem.c tests/lib/th_walk.c
FUZZ_LIBSRC := $(COMMON_SRC) $(THETAD_SRC) $(CLIENT_SRC) $(FUZZ_TESTLIB)
# thetad's C++ objects come from the normal build (not instrumented).
FUZZ_CXX_OBJ := $(patsubst %.cc,build/obj/%.o,$(THETAD_CXX_SRC))
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIBSRC) $(FUZZ_CXX_OBJ) | $(SETUP_STAMP) $(SHADER_HDRS) $(PRES_DICT_H)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(WEBRTC_DEFS) $(WEB_DEFS) -o $@ $< $(FUZZ_LIBSRC) $(FUZZ_CXX_OBJ) $(LIBS_ALL)
fuzz-%: $(SETUP_STAMP)
	$(Q)$(if $(filter tests/fuzz/$*/%,$(FUZZ_SRC)),,echo "no fuzz targets under tests/fuzz/$*" >&2; exit 1)
	$(Q)$(MAKE) --no-print-directory $(patsubst tests/fuzz/%.c,build/fuzz/%,$(filter tests/fuzz/$*/%,$(FUZZ_SRC)))
	$(Q)bash scripts/run-fuzz $(FUZZ_SECONDS) $(patsubst tests/fuzz/%.c,build/fuzz/%,$(filter tests/fuzz/$*/%,$(FUZZ_SRC)))
fuzz: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
	$(Q)bash scripts/run-fuzz $(FUZZ_SECONDS) $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

# kill -9 of thetad under load, CRASH_ROUNDS times (make test runs 10).
crash-test: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(B)/tests/integration/test_crash
	$(Q)THETA_BUILD=$(B) THETA_CRASH_ROUNDS=$(CRASH_ROUNDS) bash scripts/run-tests $(B)/tests/integration/test_crash

# A member catching up 1 M entries (about 200 MiB) from its host; make test runs 100 k.
CATCHUP_ENTRIES ?= 1000000
catchup-test: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(B)/tests/integration/test_catchup
	$(Q)THETA_BUILD=$(B) THETA_CATCHUP_ENTRIES=$(CATCHUP_ENTRIES) bash scripts/run-tests $(B)/tests/integration/test_catchup

# Three daemons and four clients converging at the issue's sizes (10 k
# edits, a late joiner after 100 k entries); make test runs smaller ones.
CONVERGE_EDITS ?= 10000
CONVERGE_LATE_ENTRIES ?= 100000
CONVERGE_TIMEOUT ?= 3600
converge-test: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(B)/tests/integration/test_converge
	$(Q)THETA_BUILD=$(B) THETA_CONVERGE_EDITS=$(CONVERGE_EDITS) THETA_CONVERGE_LATE_ENTRIES=$(CONVERGE_LATE_ENTRIES) \
		TEST_TIMEOUT=$(CONVERGE_TIMEOUT) bash scripts/run-tests $(B)/tests/integration/test_converge

demo: $(SETUP_STAMP)
	$(Q)$(MAKE) --no-print-directory $(BINS) $(TOOL_BINS) web
	$(Q)THETA_BUILD=$(B) bash scripts/demo

MAN_PAGES_1 := $(wildcard docs/man/*.1)
MAN_PAGES_5 := $(wildcard docs/man/*.5)
MAN_PAGES_8 := $(wildcard docs/man/*.8)
DOC_FILES   := $(wildcard docs/*.md)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BIN_THETAD) $(DESTDIR)$(SBINDIR)/thetad
	install -m 0755 $(BIN_CLIENT) $(DESTDIR)$(BINDIR)/theta-client
	install -m 0755 $(BIN_CTL) $(DESTDIR)$(BINDIR)/thetactl
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/thetad.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/thetad.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/thetad.service
	install -m 0644 systemd/thetad.socket $(DESTDIR)$(SYSTEMDUNITDIR)/thetad.socket
	install -m 0644 systemd/thetad-client.socket $(DESTDIR)$(SYSTEMDUNITDIR)/thetad-client.socket
	install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 systemd/thetad.sysusers $(DESTDIR)$(SYSUSERSDIR)/thetad.conf
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN_PAGES_1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN_PAGES_5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN_PAGES_8) $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(DOCDIR)/docs
	$(BIN_THETAD) --print-config-example > $(DESTDIR)$(DOCDIR)/thetad.conf.example
	chmod 0644 $(DESTDIR)$(DOCDIR)/thetad.conf.example
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/docs/
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 scripts/thetactl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/thetactl
	install -d $(DESTDIR)$(WEBDIR)
	cp -R $(WEB_OUT)/. $(DESTDIR)$(WEBDIR)/ && chmod -R u=rwX,go=rX $(DESTDIR)$(WEBDIR)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/thetad $(DESTDIR)$(BINDIR)/theta-client $(DESTDIR)$(BINDIR)/thetactl
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/thetad.service $(DESTDIR)$(SYSTEMDUNITDIR)/thetad.socket
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/thetad-client.socket
	rm -f $(DESTDIR)$(SYSUSERSDIR)/thetad.conf
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES_1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN_PAGES_5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN_PAGES_8)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/thetactl
	rm -f $(DESTDIR)$(DOCDIR)/thetad.conf.example $(DESTDIR)$(DOCDIR)/README.md
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/docs/,$(notdir $(DOC_FILES)))
	rmdir $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(if $(WEBDIR),rm -rf $(DESTDIR)$(WEBDIR))

clean:
	rm -rf build-san $(filter-out build/.setup-stamp,$(wildcard build/*))

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
# The generators built straight from one source (gen_ipc_js, ui_font_gen) leave their .d beside them:
# a header they read (proto/ipc_msgs.def, proto/session.h) rebuilds them.
-include $(wildcard $(B)/tools/*/*.d)
-include $(wildcard $(B)/gen/gfx/shaders/*.d $(B)/gen/bench/gfx/*.d)
