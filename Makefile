# The two commands that matter: `make lab` (the main job) and `make test` (the whole suite).
# Both install what is missing first and say so; neither needs anything but Node 20, make and apt.

SHELL := /bin/bash
SEED ?= 1
ADDON := native/build/Release/sultry_ktls.node
NODE_STAMP := node_modules/.package-lock.json

.PHONY: lab test deps typecheck bench clean help

help:
	@echo "make lab    replay every capture, run property tests (quick) and lab scenarios; report"
	@echo "make test   the whole vitest suite, including real-peer tests (installs Debian packages it needs)"
	@echo "make deps   install the Debian packages the real-peer tests use (tshark, tcpdump, nginx, ...)"
	@echo "make bench  benchmarks, printed as ratios against a peer run side by side"
	@echo "make test-ktls-vm  kTLS on a real kernel: Debian's kernel in QEMU (apt-installs qemu/busybox/cpio if missing)"

$(NODE_STAMP): package.json package-lock.json
	@echo "make: installing npm dependencies (npm ci)"
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

lab: $(NODE_STAMP) deps
	node bin/sultry.js lab --all --seed $(SEED)

deps:
	@bash scripts/deps.sh

typecheck: $(NODE_STAMP)
	npx tsc --noEmit

test: $(NODE_STAMP) deps typecheck $(ADDON)
	npx vitest run

bench: $(NODE_STAMP)
	npx tsx bench/index.ts $(B)

clean:
	rm -rf out

# The kTLS addon (native/). Optional: without it `sultry fetch` reports "addon not built" and uses node:tls.
NODE_GYP ?= $(shell npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
.PHONY: native
native: $(ADDON)
$(ADDON): native/ktls.cc native/uring.cc native/napi-args.h native/binding.gyp
	@node "$(NODE_GYP)" rebuild -C native --nodedir="$$(dirname $$(dirname $$(command -v node)))" \
	  || { echo "make native: building the kTLS addon failed (needs node-gyp, a C++ compiler, node headers and <linux/tls.h>); sultry fetch will fall back to node:tls and say 'addon not built'"; exit 1; }

# kTLS on a real kernel: Debian's kernel in QEMU (TCG) with the tls module; see src/ktls/vm/run.sh.
.PHONY: test-ktls-vm
test-ktls-vm: $(NODE_STAMP) $(ADDON)
	bash src/ktls/vm/run.sh
