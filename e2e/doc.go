// Package e2e holds the end-to-end tests of the web pages: they start the
// service in-process on SQLite in a temporary directory and drive Debian's
// headless Chromium through chromedp, as a citizen, a vaccinator and a
// checkpoint would. Without /usr/bin/chromium they skip, except in CI (CI
// set), where they fail. VAXCERT_SCREENSHOTS=1 writes the screenshots of
// each step into docs/screenshots.
package e2e
