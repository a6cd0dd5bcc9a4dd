// Package e2e holds Sherpa's browser tests: real headless Chromium (Debian's
// chromium, driven by chromedp) against the real app on a real database.
// Screenshots are saved under e2e/screenshots/, which git ignores.
package e2e
