# How `sam build` makes the package of a function with packages of its own (BuildMethod: makefile in
# template.yaml; the function's Makefile includes this file): its lock (requirements.txt, every file checked against
# its hashes) for Lambda's python3.13 on arm64 from wheels, as layers/shared/Makefile installs the layer's, then its
# own modules, then bytecode. SAM's default Python builder ships sources only, and /var/task is read-only: each cold
# start compiled again whatever it imported of them (cryptography, which PyJWT imports, cost AuthFunction 44 ms).
# layers/shared/bytecode.py compiles the packages in place of their sources (with python3.13 only); the function's
# modules keep theirs.
# samconfig.toml's cached builds key a function on its own folder and lock only: after a change to this file or to
# bytecode.py, build once with `sam build --no-cached`.
FUNCTIONS_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
PYTHON ?= python3
OWN_MODULES := $(wildcard *.py)

build-%:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes --requirement requirements.txt \
		--target $(ARTIFACTS_DIR) --platform manylinux2014_aarch64 --implementation cp \
		--python-version 3.13 --only-binary=:all: --upgrade
	rm -rf $(ARTIFACTS_DIR)/bin $(ARTIFACTS_DIR)/share
	find $(ARTIFACTS_DIR) -name __pycache__ -type d -prune -exec rm -rf {} +
	cp $(OWN_MODULES) $(ARTIFACTS_DIR)/
	$(PYTHON) $(FUNCTIONS_DIR)../layers/shared/bytecode.py $(ARTIFACTS_DIR) --prefix /var/task \
		$(addprefix --keep-sources ,$(OWN_MODULES))
