# SPDX-License-Identifier: GPL-2.0
# nova: a Rust DRM driver for NVIDIA GPUs, its vGPU test hardware and their tests.
#
#   make run     set up, build everything, boot a guest with the vGPU, load the modules
#   make test    host tests + VM tests; ends with "N passed, N failed"
#   make fuzz    a long seeded ioctl fuzz run in the guest (FUZZ_SEED, FUZZ_CALLS, FUZZ_SECS)
#
# Everything downloaded or built lives in $(NOVA_CACHE) (default ~/.cache/nova).

NOVA_CACHE ?= $(HOME)/.cache/nova
export NOVA_CACHE
export CARGO_TARGET_DIR := $(NOVA_CACHE)/target
export PATH := $(NOVA_CACHE)/tools/bin:$(HOME)/.cargo/bin:$(PATH)
export RUST_LIB_SRC := /usr/lib/rustlib/src/rust/library
export LIBCLANG_PATH := /usr/lib/llvm-19/lib

KSRC := $(NOVA_CACHE)/linux-7.3
KOUT := $(NOVA_CACHE)/kbuild
MODOUT := $(NOVA_CACHE)/modules
KMAKE = $(MAKE) -C $(KSRC) O=$(KOUT) LLVM=-19 M=$(CURDIR) MO=$(MODOUT)
GUEST_TARGET := x86_64-unknown-linux-gnu

.PHONY: all setup kernel modules vgpu guest-tests run shell test fuzz lint bench clean

all: modules vgpu guest-tests

setup:
	@bash scripts/setup-host.sh
	@bash scripts/setup-tools.sh
	@bash scripts/setup-chroot.sh
	@bash scripts/setup-firmware.sh
	@bash scripts/setup-igt.sh

kernel: setup
	@bash scripts/build-kernel.sh

modules: kernel
	@mkdir -p $(MODOUT)
	+@$(KMAKE) modules > $(MODOUT)/build.log 2>&1 || { cat $(MODOUT)/build.log; exit 1; }
	@grep -E '^(warning|error)' -A8 $(MODOUT)/build.log || true

vgpu: setup
	@cargo build -q --release -p vgpu -p panic-decode

guest-tests: setup
	@RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release -p nova-guest-tests --target $(GUEST_TARGET)

# The guest renders a picture with the GPU (tests/vm/run.sh); it lands in build/render.png.
run: all
	@VM_SHOW=1 bash scripts/vm.sh run tests/vm/run.sh
	@mkdir -p build
	@if [ -f $(NOVA_CACHE)/vm/runs/run/share/out/render.ppm ]; then \
		python3 tests/vm/ppm2png.py $(NOVA_CACHE)/vm/runs/run/share/out/render.ppm build/render.png; \
	else \
		echo "run: the guest wrote no render.ppm (see the console above)"; exit 1; \
	fi

shell: all
	@bash scripts/vm.sh shell tests/vm/shell.sh interactive

# The build is the first suite of scripts/test.sh, so that a broken build is a counted failure
# and the summary is printed whatever happens.
test:
	@bash scripts/test.sh

# A long run of the guest ioctl fuzzer (scripts/fuzz.sh): FUZZ_SEED, FUZZ_CALLS, FUZZ_SECS and
# FUZZ_UNBINDS from the environment, e.g. `make fuzz FUZZ_SEED=7 FUZZ_SECS=3600`.
fuzz: all
	@bash scripts/fuzz.sh

lint: modules
	cargo fmt --all -- --check
	cargo clippy -q --workspace --all-targets -- -D warnings
	@bash scripts/kernel-clippy.sh

bench: all
	@bash scripts/bench.sh

clean:
	rm -rf $(MODOUT) $(CARGO_TARGET_DIR) $(NOVA_CACHE)/vm/runs
