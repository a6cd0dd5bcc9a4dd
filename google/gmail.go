package google

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"sort"
	"strings"
	"sync"
	"time"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"google.golang.org/api/gmail/v1"
)

// EmailDraft is a plain-text email from the connected account. For a reply set
// ThreadID and the In-Reply-To/References of the message replied to (Reply does
// this for you).
type EmailDraft struct {
	To      string // one address: "a@example.com" or "Ann <a@example.com>"
	Subject string
	Body    string

	ThreadID   string
	InReplyTo  string
	References string

	// MessageID, when set ("<token@sherpa>"), is the message's Message-ID.
	// SendEmail first looks for a message with it in the account and sends
	// nothing when one is there, so a retry after a timeout sends once.
	MessageID string
}

// SentMessage identifies a message Gmail accepted.
type SentMessage struct {
	ID       string
	ThreadID string
	// Earlier is true when the message was already in the account (an
	// earlier try went through) and nothing was sent now.
	Earlier bool
}

// MessageIDFor is the Message-ID that tags an email sent from a form with
// this token.
func MessageIDFor(token string) string { return "<" + oneLine(token) + "@sherpa>" }

// Thread is a Gmail conversation, messages oldest first.
type Thread struct {
	ID       string
	Subject  string // of the first message
	Snippet  string // Gmail's plain-text preview
	LastDate time.Time
	Messages []Message
}

// Message is one email of a thread, its body reduced to plain text.
type Message struct {
	ID         string
	From       string
	To         string
	Date       time.Time
	Subject    string
	MessageID  string // the Message-ID header, for replies
	References string
	Body       string
	Sent       bool // sent from the connected account
}

// DefaultThreads is how many threads ListThreads returns when asked for none.
const DefaultThreads = 20

// SendEmail sends d from the connected account ("me"; Gmail fills in From).
func (cl *Client) SendEmail(ctx context.Context, d EmailDraft) (SentMessage, error) {
	ctx, cancel := cl.call(ctx)
	defer cancel()
	return cl.send(ctx, d)
}

func (cl *Client) send(ctx context.Context, d EmailDraft) (SentMessage, error) {
	if d.MessageID != "" {
		if earlier, err := cl.findMessage(ctx, d.MessageID); err != nil || earlier != nil {
			return SentMessage{}.or(earlier), err
		}
	}
	raw, err := buildMessage(d, time.Now())
	if err != nil {
		return SentMessage{}, err
	}
	msg := &gmail.Message{Raw: base64.URLEncoding.EncodeToString(raw), ThreadId: d.ThreadID}
	sent, err := cl.gmail.Users.Messages.Send("me", msg).Context(ctx).Do()
	if err != nil {
		return SentMessage{}, classify(err)
	}
	return SentMessage{ID: sent.Id, ThreadID: sent.ThreadId}, nil
}

// findMessage answers the account's message with this Message-ID, nil when
// there is none.
func (cl *Client) findMessage(ctx context.Context, messageID string) (*SentMessage, error) {
	id := strings.Trim(oneLine(messageID), "<>")
	list, err := cl.gmail.Users.Messages.List("me").Q("rfc822msgid:" + id).MaxResults(1).Context(ctx).Do()
	if err != nil {
		return nil, classify(err)
	}
	if len(list.Messages) == 0 {
		return nil, nil
	}
	m := list.Messages[0]
	return &SentMessage{ID: m.Id, ThreadID: m.ThreadId, Earlier: true}, nil
}

// or is the earlier message if there is one, else m.
func (m SentMessage) or(earlier *SentMessage) SentMessage {
	if earlier != nil {
		return *earlier
	}
	return m
}

// Reply answers the latest message of a thread in the same thread: subject
// "Re: …", In-Reply-To its Message-ID and References extended by it. The reply
// goes to `to` (the contact); if empty, to the latest message's sender, or its
// recipient when the connected account sent it. A messageID tags the reply
// as in EmailDraft: when a message with it is already there, nothing is sent.
func (cl *Client) Reply(ctx context.Context, threadID, to, body, messageID string) (SentMessage, error) {
	ctx, cancel := cl.call(ctx)
	defer cancel()
	th, err := cl.gmail.Users.Threads.Get("me", threadID).Format("metadata").
		MetadataHeaders("From", "To", "Subject", "Message-ID", "References").Context(ctx).Do()
	if err != nil {
		return SentMessage{}, classify(err)
	}
	if len(th.Messages) == 0 {
		return SentMessage{}, fmt.Errorf("%w: thread %s has no messages", ErrNotFound, threadID)
	}
	latest := th.Messages[0]
	for _, m := range th.Messages[1:] {
		if m.InternalDate >= latest.InternalDate {
			latest = m
		}
	}
	last := parseMessage(latest)
	if to == "" {
		to = last.From
		if last.Sent {
			to = last.To
		}
	}
	subject := last.Subject
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	return cl.send(ctx, EmailDraft{
		To:         to,
		Subject:    subject,
		Body:       body,
		ThreadID:   th.Id,
		InReplyTo:  last.MessageID,
		References: strings.TrimSpace(last.References + " " + last.MessageID),
		MessageID:  messageID,
	})
}

// ListThreads answers up to max threads (DefaultThreads if max <= 0, at most 100)
// that the contact sent or received, newest first, with their messages, from
// the page pageToken names ("" for the first); next names the page of older
// threads, "" when there is none.
func (cl *Client) ListThreads(ctx context.Context, contactEmail string, max int, pageToken string) (threads []Thread, next string, err error) {
	addr, err := searchableAddress(contactEmail)
	if err != nil {
		return nil, "", err
	}
	if max <= 0 {
		max = DefaultThreads
	}
	max = min(max, 100)
	ctx, cancel := cl.call(ctx)
	defer cancel()
	q := fmt.Sprintf("from:%s OR to:%s", addr, addr)
	call := cl.gmail.Users.Threads.List("me").Q(q).MaxResults(int64(max))
	if pageToken != "" {
		call = call.PageToken(pageToken)
	}
	list, err := call.Context(ctx).Do()
	if err != nil {
		return nil, "", classify(err)
	}
	threads, err = cl.getThreads(ctx, list.Threads)
	return threads, list.NextPageToken, err
}

// getThreads reads the listed threads in full, newest first.
func (cl *Client) getThreads(ctx context.Context, listed []*gmail.Thread) ([]Thread, error) {
	// One threads.get per thread, a few at a time.
	threads := make([]*Thread, len(listed))
	errs := make([]error, len(listed))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, t := range listed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			full, err := cl.gmail.Users.Threads.Get("me", t.Id).Format("full").Context(ctx).Do()
			if err != nil {
				errs[i] = classify(err)
				return
			}
			threads[i] = parseThread(full)
		}()
	}
	wg.Wait()

	out := make([]Thread, 0, len(threads))
	for i, t := range threads {
		if errs[i] != nil {
			if errors.Is(errs[i], ErrNotFound) {
				continue // deleted between list and get
			}
			return nil, errs[i]
		}
		out = append(out, *t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastDate.After(out[j].LastDate) })
	return out, nil
}

// searchableAddress is the bare address of s, refused if it could change the
// meaning of a Gmail search.
func searchableAddress(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || strings.ContainsAny(a.Address, " \t\"(){}") {
		return "", fmt.Errorf("%w: email address %q", ErrInvalid, s)
	}
	return a.Address, nil
}

func parseThread(t *gmail.Thread) *Thread {
	th := &Thread{ID: t.Id, Snippet: html.UnescapeString(t.Snippet)}
	for _, m := range t.Messages {
		th.Messages = append(th.Messages, parseMessage(m))
	}
	sort.SliceStable(th.Messages, func(i, j int) bool { return th.Messages[i].Date.Before(th.Messages[j].Date) })
	if len(th.Messages) > 0 {
		th.Subject = th.Messages[0].Subject
		th.LastDate = th.Messages[len(th.Messages)-1].Date
		if th.Snippet == "" {
			th.Snippet = html.UnescapeString(t.Messages[len(t.Messages)-1].Snippet)
		}
	}
	return th
}

func parseMessage(m *gmail.Message) Message {
	msg := Message{ID: m.Id}
	for _, l := range m.LabelIds {
		if l == "SENT" {
			msg.Sent = true
		}
	}
	if m.Payload == nil {
		return msg
	}
	h := partHeader(m.Payload)
	msg.From = h("From")
	msg.To = h("To")
	msg.Subject = h("Subject")
	msg.MessageID = h("Message-ID")
	msg.References = h("References")
	if d, err := mail.ParseDate(h("Date")); err == nil {
		msg.Date = d
	} else if m.InternalDate != 0 {
		msg.Date = time.UnixMilli(m.InternalDate)
	}
	msg.Body = messageText(m.Payload)
	return msg
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.NewReaderLabel}

// partHeader looks headers up case-insensitively, decoding RFC 2047 words.
func partHeader(p *gmail.MessagePart) func(string) string {
	return func(name string) string {
		for _, h := range p.Headers {
			if strings.EqualFold(h.Name, name) {
				if v, err := wordDecoder.DecodeHeader(h.Value); err == nil {
					return strings.TrimSpace(v)
				}
				return strings.TrimSpace(h.Value)
			}
		}
		return ""
	}
}

// messageText is the message's text/plain body, or its text/html body reduced
// to text when there is no plain part. Attachments are ignored.
func messageText(p *gmail.MessagePart) string {
	if s, ok := findText(p, "text/plain"); ok {
		return s
	}
	if s, ok := findText(p, "text/html"); ok {
		return htmlToText(s)
	}
	return ""
}

func findText(p *gmail.MessagePart, mimeType string) (string, bool) {
	if p == nil {
		return "", false
	}
	for _, child := range p.Parts {
		if s, ok := findText(child, mimeType); ok {
			return s, true
		}
	}
	if !strings.EqualFold(p.MimeType, mimeType) || p.Filename != "" || p.Body == nil {
		return "", false
	}
	if disp, _, _ := mime.ParseMediaType(partHeader(p)("Content-Disposition")); disp == "attachment" {
		return "", false
	}
	data, err := decodeBase64URL(p.Body.Data)
	if err != nil {
		return "", false
	}
	_, params, _ := mime.ParseMediaType(partHeader(p)("Content-Type"))
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		if r, err := charset.NewReaderLabel(cs, bytes.NewReader(data)); err == nil {
			if converted, err := io.ReadAll(r); err == nil {
				data = converted
			}
		}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.ToValidUTF8(text, "\uFFFD"), true
}

// decodeBase64URL accepts Gmail's base64url with or without padding.
func decodeBase64URL(s string) ([]byte, error) {
	s = strings.NewReplacer("+", "-", "/", "_", "\n", "", "\r", "").Replace(s)
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// htmlToText keeps an HTML body's text, with line breaks at block boundaries.
func htmlToText(s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0 // inside <script>, <style>, <head>
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return tidyText(b.String())
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if tt == xhtml.StartTagToken {
					skip++
				} else if tt == xhtml.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "table", "ul", "ol":
				b.WriteByte('\n')
			}
		}
	}
}

// tidyText collapses runs of spaces and of blank lines.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// buildMessage renders d as an RFC 5322 message: UTF-8 subject as RFC 2047
// encoded words, a quoted-printable UTF-8 text body, CRLF line ends. From is left
// out: Gmail sets it to the authenticated account.
func buildMessage(d EmailDraft, now time.Time) ([]byte, error) {
	to, err := mail.ParseAddress(strings.TrimSpace(d.To))
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %v", ErrInvalid, d.To, err)
	}
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(fold(name + ": " + value))
		b.WriteString("\r\n")
	}
	if to.Name == "" {
		header("To", to.Address)
	} else {
		header("To", to.String())
	}
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(d.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	if v := oneLine(d.MessageID); v != "" {
		header("Message-ID", v)
	}
	if v := oneLine(d.InReplyTo); v != "" {
		header("In-Reply-To", v)
	}
	if v := oneLine(d.References); v != "" {
		header("References", v)
	}
	b.WriteString("\r\n")

	body := strings.ReplaceAll(d.Body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	body = strings.ReplaceAll(body, "\n", "\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// oneLine keeps a header value on one logical line (no header injection).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// fold breaks a header line at spaces so no line runs past 76 characters where
// that is possible; unfolding restores the original.
func fold(line string) string {
	words := strings.Split(line, " ")
	var b strings.Builder
	n := 0
	for i, w := range words {
		if i > 0 {
			if n+1+len(w) > 76 {
				b.WriteString("\r\n ")
				n = 1
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
