// Package mailtest is an in-process SMTP listener for tests: it accepts any
// message on 127.0.0.1 and keeps it in memory.
package mailtest

import (
	"bufio"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Message is one received email.
type Message struct {
	From string
	To   []string
	Data string // the raw message, headers and body
}

// Parsed returns the message parsed by net/mail.
func (m Message) Parsed() (*mail.Message, error) {
	return mail.ReadMessage(strings.NewReader(m.Data))
}

// Server is a minimal SMTP server (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
type Server struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
}

// Start listens on a free port of 127.0.0.1.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, arrived: make(chan struct{}, 100)}
	go s.serve()
	return s, nil
}

// Addr is host:port of the listener.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the Sherpa SMTP URL for this server.
func (s *Server) URL() string { return "smtp+insecure://" + s.Addr() }

// Close stops listening.
func (s *Server) Close() error { return s.ln.Close() }

// Messages returns what has arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Wait waits until at least n messages have arrived or the timeout passes.
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	deadline := time.After(timeout)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.arrived:
		case <-deadline:
			return s.Messages()
		}
	}
}

func (s *Server) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(conn)
	}
}

func (s *Server) session(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(conn)
	reply := func(line string) { io.WriteString(conn, line+"\r\n") }
	reply("220 mailtest ready")
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			reply("250-mailtest")
			reply("250-8BITMIME")
			reply("250 SMTPUTF8")
		case strings.HasPrefix(cmd, "HELO"):
			reply("250 mailtest")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			cur = Message{From: addr(line[len("MAIL FROM:"):])}
			reply("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			cur.To = append(cur.To, addr(line[len("RCPT TO:"):]))
			reply("250 ok")
		case cmd == "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // dot-unstuffing
			}
			cur.Data = b.String()
			s.mu.Lock()
			s.messages = append(s.messages, cur)
			s.mu.Unlock()
			select {
			case s.arrived <- struct{}{}:
			default:
			}
			reply("250 queued")
		case cmd == "RSET":
			cur = Message{}
			reply("250 ok")
		case cmd == "NOOP":
			reply("250 ok")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

func addr(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " "); i > 0 {
		s = s[:i]
	}
	return strings.Trim(s, "<>")
}
