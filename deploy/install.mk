# Installation, Debian package and system test of akua-driftd.
# Included by the top-level Makefile (`include deploy/install.mk`).
#
#   make install   [DESTDIR=...] [PREFIX=/usr]   release build + install
#   make uninstall [DESTDIR=...] [PREFIX=/usr]   removes what install put there
#   make deb       [VERSION=x.y.z]               dist/akua-driftd_VERSION_ARCH.deb
#   make system-test                             Tests/system/run.sh (root + systemd-nspawn)

SWIFT ?= swift
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
# systemd reads units and catalogs from both /usr/lib/systemd and /usr/local/lib/systemd.
UNITDIR ?= $(PREFIX)/lib/systemd/system
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
DOCDIR ?= $(PREFIX)/share/doc/akua-driftd
CONFDIR ?= /etc/akua-driftd
EXAMPLE_CONFIG ?= config/akua-driftd.toml
# Release builds use their own scratch path so they never wait on the debug .build lock.
RELEASE_SCRATCH ?= .build-release
RELEASE_FLAGS ?= -c release --static-swift-stdlib --scratch-path $(RELEASE_SCRATCH)
RELEASE_BIN = $(RELEASE_SCRATCH)/release/akua-driftd
RELEASE_SIM = $(RELEASE_SCRATCH)/release/akua-sim
DIST ?= dist
VERSION ?=

INSTALL ?= install

.PHONY: release-driftd release-sim install uninstall deb system-test

## Release binary of the daemon, with the Swift runtime linked in statically.
release-driftd:
	$(SWIFT) build $(RELEASE_FLAGS) --product akua-driftd

## Release binary of the simulator (for the system test; never installed).
release-sim:
	$(SWIFT) build $(RELEASE_FLAGS) --product akua-sim

install: release-driftd
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR)
	$(INSTALL) -m 0755 $(RELEASE_BIN) $(DESTDIR)$(BINDIR)/akua-driftd
	strip --strip-unneeded $(DESTDIR)$(BINDIR)/akua-driftd 2>/dev/null || true
	sed 's|/usr/bin/akua-driftd|$(BINDIR)/akua-driftd|g' deploy/akua-driftd.service > $(DESTDIR)$(UNITDIR)/akua-driftd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/akua-driftd.service
	$(INSTALL) -m 0644 deploy/akua-driftd.catalog $(DESTDIR)$(CATALOGDIR)/akua-driftd.catalog
	@if [ -e $(DESTDIR)$(CONFDIR)/config.toml ]; then \
		echo "keeping existing $(DESTDIR)$(CONFDIR)/config.toml"; \
	else \
		echo "$(INSTALL) -m 0644 $(EXAMPLE_CONFIG) $(DESTDIR)$(CONFDIR)/config.toml"; \
		$(INSTALL) -m 0644 $(EXAMPLE_CONFIG) $(DESTDIR)$(CONFDIR)/config.toml; \
	fi
	@for f in README.md LICENSE; do \
		if [ -f $$f ]; then echo "$(INSTALL) -m 0644 $$f $(DESTDIR)$(DOCDIR)/"; \
		$(INSTALL) -m 0644 $$f $(DESTDIR)$(DOCDIR)/; fi; \
	done
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		echo "systemctl daemon-reload && journalctl --update-catalog"; \
		systemctl daemon-reload && journalctl --update-catalog; \
	fi
	@echo "installed; nothing was enabled or started. Next steps: $(DOCDIR)/README.md, section \"Install as a service\""

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/akua-driftd $(DESTDIR)$(UNITDIR)/akua-driftd.service \
		$(DESTDIR)$(CATALOGDIR)/akua-driftd.catalog
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/LICENSE
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		echo "systemctl daemon-reload && journalctl --update-catalog"; \
		systemctl daemon-reload && journalctl --update-catalog; \
	fi
	@echo "kept $(CONFDIR) (config, credentials) and /var/lib/private/akua-driftd (state)"

deb: release-driftd
	bash deploy/build-deb.sh $(RELEASE_BIN) $(EXAMPLE_CONFIG) $(DIST) $(VERSION)

## Boots a throwaway systemd container, installs the .deb there and checks the service.
## run.sh exits 77 without root or systemd-nspawn (after printing "SKIPPED: ..."); make
## reports that as success so a skip does not fail the build.
system-test:
	@SWIFT='$(SWIFT)' bash Tests/system/run.sh; rc=$$?; [ $$rc -eq 77 ] && exit 0; exit $$rc
