package google

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/gmail/v1"

	"sherpa/google/sandbox"
)

// sentMessage answers the raw MIME and threadId of the n-th messages.send.
func sentMessage(t *testing.T, e *env, n int) (*mail.Message, []byte, string) {
	t.Helper()
	reqs := e.fake.RequestsTo("POST", "/messages/send")
	if len(reqs) <= n {
		t.Fatalf("%d sends recorded, want more than %d", len(reqs), n)
	}
	raw, err := reqs[n].GmailRaw()
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		ThreadID string `json:"threadId"`
	}
	if err := reqs[n].DecodeJSON(&body); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("sent message does not parse: %v\n%s", err, raw)
	}
	return msg, raw, body.ThreadID
}

func decodedBody(t *testing.T, msg *mail.Message) string {
	t.Helper()
	if msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding %q", msg.Header.Get("Content-Transfer-Encoding"))
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSendEmailWritesUTF8MIME(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	body := "Hallo Bob,\nanbei das Angebot über 1.234,50 € = fair.\n\n" + strings.Repeat("lang ", 40) + "\nGrüße"
	sent, err := cl.SendEmail(context.Background(), EmailDraft{To: "Bob Ähm <" + contactEmail + ">", Subject: "Grüße — Angebot", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if sent.ID == "" || sent.ThreadID == "" {
		t.Fatalf("SentMessage %+v: want ids", sent)
	}
	msg, raw, threadID := sentMessage(t, e, 0)

	for i, c := range raw {
		if c >= 0x80 {
			t.Fatalf("raw message has a non-ASCII byte at %d: headers and body must be encoded", i)
		}
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Grüße — Angebot" {
		t.Errorf("Subject %q decodes to %q (%v)", msg.Header.Get("Subject"), subject, err)
	}
	to, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(msg.Header.Get("To"))
	if err != nil || to.Address != contactEmail || to.Name != "Bob Ähm" {
		t.Errorf("To %q parses to %+v (%v)", msg.Header.Get("To"), to, err)
	}
	mediaType, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mediaType != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	if d, err := msg.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %q (%v)", msg.Header.Get("Date"), err)
	}
	if got, want := decodedBody(t, msg), strings.ReplaceAll(body, "\n", "\r\n"); got != want {
		t.Errorf("body\n%q\nwant\n%q", got, want)
	}
	for _, h := range []string{"From", "In-Reply-To", "References"} {
		if v := msg.Header.Get(h); v != "" {
			t.Errorf("a new email has %s: %q", h, v)
		}
	}
	if threadID != "" {
		t.Errorf("a new email was sent with threadId %q", threadID)
	}
}

func TestSendEmailRefusesHeaderInjection(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	_, err := cl.SendEmail(context.Background(), EmailDraft{To: contactEmail + "\r\nBcc: eve@example.com", Subject: "x", Body: "x"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("recipient with a header in it: %v, want ErrInvalid", err)
	}
	if _, err := cl.SendEmail(context.Background(), EmailDraft{To: contactEmail, Subject: "Hi\r\nBcc: eve@example.com", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	msg, _, _ := sentMessage(t, e, 0)
	if msg.Header.Get("Bcc") != "" {
		t.Fatalf("subject smuggled a Bcc header: %q", msg.Header.Get("Bcc"))
	}
}

func TestReplyAnswersTheLatestMessageInItsThread(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	first, err := cl.SendEmail(ctx, EmailDraft{To: contactEmail, Subject: "Grüße — Angebot", Body: "Angebot anbei."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.DeliverReply(userEmail, first.ThreadID, "Bob <"+contactEmail+">", "Danke, passt!"); err != nil {
		t.Fatal(err)
	}
	threads, _, err := cl.ListThreads(ctx, contactEmail, 0, "")
	if err != nil || len(threads) != 1 || len(threads[0].Messages) != 2 {
		t.Fatalf("before the reply: %+v, %v; want one thread of two", threads, err)
	}
	firstMsg, bobMsg := threads[0].Messages[0], threads[0].Messages[1]

	reply, err := cl.Reply(ctx, first.ThreadID, "", "Schön, bis bald.", "")
	if err != nil {
		t.Fatal(err)
	}
	if reply.ThreadID != first.ThreadID {
		t.Errorf("reply landed in thread %s, want %s", reply.ThreadID, first.ThreadID)
	}
	msg, _, threadID := sentMessage(t, e, 1)
	if threadID != first.ThreadID {
		t.Errorf("reply sent with threadId %q, want %q", threadID, first.ThreadID)
	}
	if got := msg.Header.Get("In-Reply-To"); got != bobMsg.MessageID || got == "" {
		t.Errorf("In-Reply-To %q, want Bob's Message-ID %q", got, bobMsg.MessageID)
	}
	if got, want := strings.Fields(msg.Header.Get("References")), []string{firstMsg.MessageID, bobMsg.MessageID}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("References %v, want %v", got, want)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Re: Grüße — Angebot" {
		t.Errorf("Subject %q", subject)
	}
	if to, _ := mail.ParseAddress(msg.Header.Get("To")); to == nil || to.Address != contactEmail {
		t.Errorf("reply To %q, want Bob, who wrote last", msg.Header.Get("To"))
	}

	threads, _, err = cl.ListThreads(ctx, contactEmail, 0, "")
	if err != nil || len(threads) != 1 || len(threads[0].Messages) != 3 {
		t.Fatalf("after the reply: %d threads, %v; want one thread of three", len(threads), err)
	}
	if last := threads[0].Messages[2]; !last.Sent || last.Body != "Schön, bis bald." {
		t.Errorf("last message %+v", last)
	}
}

func TestReplyToOwnMessageGoesToItsRecipient(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	first, err := cl.SendEmail(context.Background(), EmailDraft{To: contactEmail, Subject: "Follow-up", Body: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Reply(context.Background(), first.ThreadID, "", "two", ""); err != nil {
		t.Fatal(err)
	}
	msg, _, _ := sentMessage(t, e, 1)
	if to, _ := mail.ParseAddress(msg.Header.Get("To")); to == nil || to.Address != contactEmail {
		t.Fatalf("follow-up To %q, want %s", msg.Header.Get("To"), contactEmail)
	}
}

func TestListThreadsShowsTheContactsThreadsNewestFirst(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	older, err := cl.SendEmail(ctx, EmailDraft{To: contactEmail, Subject: "Older", Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SendEmail(ctx, EmailDraft{To: "carol@example.com", Subject: "Not Bob", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Date headers have one-second resolution
	newer, err := e.fake.DeliverMessage(userEmail, "Bob <"+contactEmail+">", "Frage zum Vertrag", "Wann geht's los?\nGruß, Bob")
	if err != nil {
		t.Fatal(err)
	}

	threads, _, err := cl.ListThreads(ctx, strings.ToUpper(contactEmail), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, th := range threads {
		ids = append(ids, th.ID)
	}
	if strings.Join(ids, ",") != newer+","+older.ThreadID {
		t.Fatalf("threads %v, want [%s %s]", ids, newer, older.ThreadID)
	}
	var lists []sandbox.Request
	for _, r := range e.fake.RequestsTo("GET", "/threads") {
		if strings.HasSuffix(r.Path, "/threads") {
			lists = append(lists, r)
		}
	}
	if len(lists) != 1 {
		t.Fatalf("%d threads.list requests, want 1", len(lists))
	}
	q := lists[0].Query
	if q.Get("q") != "from:BOB@EXAMPLE.COM OR to:BOB@EXAMPLE.COM" && q.Get("q") != "from:"+contactEmail+" OR to:"+contactEmail {
		t.Errorf("q = %q", q.Get("q"))
	}
	if q.Get("maxResults") != "10" {
		t.Errorf("maxResults = %q", q.Get("maxResults"))
	}

	in := threads[0]
	if in.Subject != "Frage zum Vertrag" || in.Snippet != "Wann geht's los? Gruß, Bob" || in.LastDate.IsZero() {
		t.Errorf("thread %+v", in)
	}
	m := in.Messages[0]
	if m.From != "Bob <"+contactEmail+">" || m.To != userEmail || m.Sent || m.MessageID == "" ||
		time.Since(m.Date) > time.Minute {
		t.Errorf("inbound message %+v", m)
	}
	if m.Body != "Wann geht's los?\nGruß, Bob" {
		t.Errorf("body %q: want the text/plain part, decoded", m.Body)
	}
	out := threads[1].Messages[0]
	if !out.Sent || out.Subject != "Older" || out.Body != "first" || out.To != contactEmail {
		t.Errorf("sent message %+v", out)
	}
}

func TestListThreadsRefusesAddressesThatChangeTheSearch(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	for _, bad := range []string{"", "bob@example.com OR from:carol@example.com", "not an address"} {
		if _, _, err := cl.ListThreads(context.Background(), bad, 0, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("ListThreads(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if n := len(e.fake.RequestsTo("GET", "/threads")); n != 0 {
		t.Fatalf("%d searches sent for invalid addresses", n)
	}
}

func b64(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

func TestMessageTextPrefersPlainAndFallsBackToHTML(t *testing.T) {
	plain := &gmail.MessagePart{MimeType: "text/plain", Body: &gmail.MessagePartBody{Data: b64("plain text")}}
	htmlPart := &gmail.MessagePart{MimeType: "text/html", Body: &gmail.MessagePartBody{
		Data: base64.RawURLEncoding.EncodeToString([]byte("<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><p>Line<br>two</p><script>x()</script></body></html>")),
	}}
	attachment := &gmail.MessagePart{MimeType: "text/plain", Filename: "notes.txt", Body: &gmail.MessagePartBody{Data: b64("attached")}}
	latin1 := &gmail.MessagePart{
		MimeType: "text/plain",
		Headers:  []*gmail.MessagePartHeader{{Name: "Content-Type", Value: "text/plain; charset=ISO-8859-1"}},
		Body:     &gmail.MessagePartBody{Data: base64.URLEncoding.EncodeToString([]byte("Gr\xfc\xdfe"))},
	}
	tests := []struct {
		name string
		part *gmail.MessagePart
		want string
	}{
		{"plain", plain, "plain text"},
		{"alternative", &gmail.MessagePart{MimeType: "multipart/alternative", Parts: []*gmail.MessagePart{htmlPart, plain}}, "plain text"},
		{"html only", &gmail.MessagePart{MimeType: "multipart/mixed", Parts: []*gmail.MessagePart{htmlPart, attachment}}, "Hello & welcome\n\nLine\ntwo"},
		{"attachment only", &gmail.MessagePart{MimeType: "multipart/mixed", Parts: []*gmail.MessagePart{attachment}}, ""},
		{"latin-1", latin1, "Grüße"},
	}
	for _, tt := range tests {
		if got := messageText(tt.part); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLongReferencesAreFolded(t *testing.T) {
	refs := strings.Repeat("<0123456789abcdef0123456789@mail.gmail.com> ", 10)
	raw, err := buildMessage(EmailDraft{To: contactEmail, Subject: strings.Repeat("Ä", 60), References: refs}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(msg.Header.Get("References")), " "); got != strings.TrimSpace(refs) {
		t.Errorf("References unfold to %q", got)
	}
	if s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); s != strings.Repeat("Ä", 60) {
		t.Errorf("long subject decodes to %q", s)
	}
}
