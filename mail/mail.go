// Package mail sends Sherpa's emails (invitations) over SMTP with
// github.com/wneessen/go-mail. It imports no other package of the project.
package mail

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	gomail "github.com/wneessen/go-mail"
)

// SMTP sends mail through one SMTP server.
type SMTP struct {
	from    string
	host    string
	options []gomail.Option
}

// New configures a sender from a URL:
//
//	smtp://user:pass@host:587           STARTTLS, required (the default port is 587)
//	smtps://user:pass@host:465          implicit TLS
//	smtp+insecure://host:1025           no TLS at all: local test servers only
//
// from is the sender address, e.g. "Sherpa <sherpa@example.com>".
func New(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("SMTP URL: %w", err)
	}
	s := &SMTP{from: from, host: u.Hostname()}
	if s.host == "" {
		return nil, fmt.Errorf("SMTP URL %q has no host", rawURL)
	}
	port := 587
	switch u.Scheme {
	case "smtp":
		s.options = append(s.options, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "smtps":
		port = 465
		s.options = append(s.options, gomail.WithSSL())
	case "smtp+insecure":
		port = 25
		s.options = append(s.options, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("SMTP URL %q: scheme must be smtp, smtps or smtp+insecure", rawURL)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP URL %q: bad port", rawURL)
		}
	}
	s.options = append(s.options, gomail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		s.options = append(s.options, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	return s, nil
}

// Send delivers one plain-text UTF-8 email.
func (s *SMTP) Send(ctx context.Context, to, subject, text string) error {
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return fmt.Errorf("sender %q: %w", s.from, err)
	}
	if err := m.To(to); err != nil {
		return fmt.Errorf("recipient %q: %w", to, err)
	}
	m.Subject(subject)
	m.SetBodyString(gomail.TypeTextPlain, text)
	c, err := gomail.NewClient(s.host, s.options...)
	if err != nil {
		return fmt.Errorf("SMTP client for %s: %w", s.host, err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send mail to %s via %s: %w", to, s.host, err)
	}
	return nil
}
