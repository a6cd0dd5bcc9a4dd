package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/textproto"
	"regexp"
	"sort"
	"strings"
	"time"

	"google.golang.org/api/gmail/v1"
)

type mailThread struct {
	id   string
	msgs []*mailMessage // in arrival order
}

func (t *mailThread) last() *mailMessage { return t.msgs[len(t.msgs)-1] }

type mailMessage struct {
	id, threadID string
	labels       []string
	internal     time.Time
	historyID    uint64
	raw          []byte
	payload      *gmail.MessagePart
	text         string   // plain text, for snippets and search
	from, to     []string // bare lower-case addresses; to includes Cc and Bcc
	subject      string
	messageID    string
	refs         []string // Message-IDs from In-Reply-To and References
}

func (m *mailMessage) hasLabel(l string) bool {
	for _, x := range m.labels {
		if x == l {
			return true
		}
	}
	return false
}

// parseStored reads a raw RFC 822 message into what the fake keeps of it.
func parseStored(raw []byte) (*mailMessage, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return nil, err
	}
	payload, text, err := buildPart(textproto.MIMEHeader(msg.Header), body, "")
	if err != nil {
		return nil, err
	}
	h := msg.Header
	m := &mailMessage{
		raw:       raw,
		payload:   payload,
		text:      text.best(),
		from:      addresses(h.Get("From")),
		to:        append(append(addresses(h.Get("To")), addresses(h.Get("Cc"))...), addresses(h.Get("Bcc"))...),
		subject:   decodeHeader(h.Get("Subject")),
		messageID: strings.TrimSpace(h.Get("Message-Id")),
	}
	m.refs = append(strings.Fields(h.Get("In-Reply-To")), strings.Fields(h.Get("References"))...)
	return m, nil
}

var wordDecoder = new(mime.WordDecoder)

func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

var angleAddr = regexp.MustCompile(`[^\s<>,;"]+@[^\s<>,;"]+`)

func addresses(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []string
	if list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(v); err == nil {
		for _, a := range list {
			out = append(out, strings.ToLower(a.Address))
		}
		return out
	}
	for _, a := range angleAddr.FindAllString(v, -1) {
		out = append(out, strings.ToLower(a))
	}
	return out
}

type partText struct{ plain, html string }

func (t partText) best() string {
	if t.plain != "" {
		return t.plain
	}
	return stripTags(t.html)
}

var tagRE = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>|<[^>]*>`)

func stripTags(s string) string { return html.UnescapeString(tagRE.ReplaceAllString(s, " ")) }

// buildPart renders a MIME entity as Gmail's MessagePart: header values decoded,
// leaf bodies transfer-decoded and base64url-encoded, multiparts as parts.
func buildPart(h textproto.MIMEHeader, body []byte, partID string) (*gmail.MessagePart, partText, error) {
	var text partText
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mediaType = "text/plain"
	}
	p := &gmail.MessagePart{PartId: partID, MimeType: mediaType, Headers: headerList(h), Body: &gmail.MessagePartBody{}}
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		p.Filename = dp["filename"]
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for i := 0; ; i++ {
			np, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, text, fmt.Errorf("multipart: %w", err)
			}
			b, err := io.ReadAll(np)
			if err != nil {
				return nil, text, fmt.Errorf("multipart: %w", err)
			}
			childID := fmt.Sprint(i)
			if partID != "" {
				childID = partID + "." + childID
			}
			child, ct, err := buildPart(np.Header, b, childID)
			if err != nil {
				return nil, text, err
			}
			p.Parts = append(p.Parts, child)
			if text.plain == "" {
				text.plain = ct.plain
			}
			if text.html == "" {
				text.html = ct.html
			}
		}
		return p, text, nil
	}
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	p.Body = &gmail.MessagePartBody{Size: int64(len(data)), Data: base64.URLEncoding.EncodeToString(data)}
	if p.Filename == "" {
		switch mediaType {
		case "text/plain":
			text.plain = string(data)
		case "text/html":
			text.html = string(data)
		}
	}
	return p, text, nil
}

func headerList(h textproto.MIMEHeader) []*gmail.MessagePartHeader {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []*gmail.MessagePartHeader
	for _, k := range names {
		name := k
		if k == "Message-Id" {
			name = "Message-ID"
		}
		for _, v := range h[k] {
			out = append(out, &gmail.MessagePartHeader{Name: name, Value: decodeHeader(v)})
		}
	}
	return out
}

func decodeTransfer(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := strings.Join(strings.Fields(string(body)), "")
		if d, err := base64.StdEncoding.DecodeString(clean); err == nil {
			return d
		}
		if d, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "=")); err == nil {
			return d
		}
	case "quoted-printable":
		if d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil {
			return d
		}
	}
	return body
}

func snippet(text string) string {
	s := strings.Join(strings.Fields(text), " ")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return html.EscapeString(s)
}

// normSubject drops reply and forward prefixes, for Gmail's threading rule.
func normSubject(s string) string {
	s = strings.TrimSpace(s)
	for {
		l := strings.ToLower(s)
		cut := false
		for _, p := range []string{"re:", "fwd:", "fw:", "aw:"} {
			if strings.HasPrefix(l, p) {
				s = strings.TrimSpace(s[len(p):])
				cut = true
			}
		}
		if !cut {
			return s
		}
	}
}

// store files m in a thread of a: threadID when m references a message of it
// and has the same subject (Gmail's rule), otherwise a new thread. s.mu held.
func (a *account) store(m *mailMessage, threadID string) {
	m.id = randomHex(8)
	m.internal = time.Now()
	a.historyID++
	m.historyID = a.historyID
	if t := a.threads[threadID]; t != nil && threadAccepts(t, m) {
		m.threadID = t.id
		t.msgs = append(t.msgs, m)
	} else {
		m.threadID = m.id
		a.threads[m.id] = &mailThread{id: m.id, msgs: []*mailMessage{m}}
	}
	a.messages[m.id] = m
}

func threadAccepts(t *mailThread, m *mailMessage) bool {
	if normSubject(t.msgs[0].subject) != normSubject(m.subject) {
		return false
	}
	for _, old := range t.msgs {
		for _, ref := range m.refs {
			if old.messageID != "" && ref == old.messageID {
				return true
			}
		}
	}
	return false
}

// gmailUser checks the {userId} path segment: "me" or the account's address.
func gmailUser(w http.ResponseWriter, r *http.Request, a *account) bool {
	u := r.PathValue("userId")
	if u == "me" || strings.EqualFold(u, a.email) {
		return true
	}
	apiError(w, http.StatusForbidden, "PERMISSION_DENIED", "forbidden", "Delegation denied for "+a.email)
	return false
}

func (s *Server) gmailProfile(w http.ResponseWriter, r *http.Request, a *account) {
	if !gmailUser(w, r, a) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"emailAddress":  a.email,
		"messagesTotal": len(a.messages),
		"threadsTotal":  len(a.threads),
		"historyId":     fmt.Sprint(a.historyID),
	})
}

// gmailSend is users.messages.send: From, Date and Message-ID are filled in
// when missing, as Gmail does; threadId is honoured by Gmail's threading rule.
func (s *Server) gmailSend(w http.ResponseWriter, r *http.Request, a *account) {
	if !gmailUser(w, r, a) {
		return
	}
	var in struct {
		Raw      string `json:"raw"`
		ThreadID string `json:"threadId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	if in.Raw == "" {
		badRequest(w, "'raw' RFC822 payload message string or uploading message via /upload/* URL required")
		return
	}
	raw, err := decodeBase64URL(in.Raw)
	if err != nil {
		badRequest(w, "Invalid value for ByteString: raw")
		return
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		badRequest(w, "Invalid raw message: "+err.Error())
		return
	}
	var extra strings.Builder
	if from := strings.TrimSpace(parsed.Header.Get("From")); from == "" || from == "me" {
		if from == "me" {
			raw = dropHeader(raw, "From")
		}
		extra.WriteString("From: " + a.email + "\r\n")
	}
	if parsed.Header.Get("Date") == "" {
		extra.WriteString("Date: " + time.Now().Format(time.RFC1123Z) + "\r\n")
	}
	if parsed.Header.Get("Message-Id") == "" {
		extra.WriteString("Message-ID: <" + randomHex(12) + "@mail.gmail.com>\r\n")
	}
	raw = append([]byte(extra.String()), raw...)
	m, err := parseStored(raw)
	if err != nil {
		badRequest(w, "Invalid raw message: "+err.Error())
		return
	}
	if len(m.to) == 0 {
		badRequest(w, "Recipient address required")
		return
	}
	if in.ThreadID != "" && a.threads[in.ThreadID] == nil {
		notFound(w)
		return
	}
	m.labels = []string{"SENT"}
	a.store(m, in.ThreadID)
	writeJSON(w, http.StatusOK, map[string]any{"id": m.id, "threadId": m.threadID, "labelIds": m.labels})
}

// dropHeader removes the first header line called name from raw.
func dropHeader(raw []byte, name string) []byte {
	lines := strings.SplitAfter(string(raw), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			break
		}
		if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return []byte(strings.Join(append(lines[:i:i], lines[i+1:]...), ""))
		}
	}
	return raw
}

// messageJSON renders m in a Gmail format: full, metadata, minimal or raw.
func messageJSON(m *mailMessage, format string, metadataHeaders []string) *gmail.Message {
	out := &gmail.Message{
		Id:           m.id,
		ThreadId:     m.threadID,
		LabelIds:     m.labels,
		Snippet:      snippet(m.text),
		HistoryId:    m.historyID,
		InternalDate: m.internal.UnixMilli(),
		SizeEstimate: int64(len(m.raw)),
	}
	switch format {
	case "", "full":
		out.Payload = m.payload
	case "metadata":
		p := &gmail.MessagePart{MimeType: m.payload.MimeType}
		for _, h := range m.payload.Headers {
			if len(metadataHeaders) == 0 || containsFold(metadataHeaders, h.Name) {
				p.Headers = append(p.Headers, h)
			}
		}
		out.Payload = p
	case "raw":
		out.Raw = base64.URLEncoding.EncodeToString(m.raw)
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func validFormat(w http.ResponseWriter, r *http.Request, allowRaw bool) (string, bool) {
	f := r.URL.Query().Get("format")
	switch f {
	case "", "full", "metadata", "minimal":
		return f, true
	case "raw":
		if allowRaw {
			return f, true
		}
	}
	badRequest(w, "Invalid value at 'format': "+f)
	return "", false
}

func (s *Server) gmailMessage(w http.ResponseWriter, r *http.Request, a *account) {
	if !gmailUser(w, r, a) {
		return
	}
	format, ok := validFormat(w, r, true)
	if !ok {
		return
	}
	m := a.messages[r.PathValue("id")]
	if m == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, messageJSON(m, format, r.URL.Query()["metadataHeaders"]))
}

func (s *Server) gmailThread(w http.ResponseWriter, r *http.Request, a *account) {
	if !gmailUser(w, r, a) {
		return
	}
	format, ok := validFormat(w, r, false)
	if !ok {
		return
	}
	t := a.threads[r.PathValue("id")]
	if t == nil {
		notFound(w)
		return
	}
	out := &gmail.Thread{Id: t.id, HistoryId: t.last().historyID, Snippet: snippet(t.last().text)}
	for _, m := range t.msgs {
		out.Messages = append(out.Messages, messageJSON(m, format, r.URL.Query()["metadataHeaders"]))
	}
	writeJSON(w, http.StatusOK, out)
}

// gmailThreads is users.threads.list: threads with a message matching q, the
// most recently active first.
func (s *Server) gmailThreads(w http.ResponseWriter, r *http.Request, a *account) {
	size, query, ok := gmailListRequest(w, r, a)
	if !ok {
		return
	}
	var matched []*mailThread
	for _, t := range a.threads {
		for _, m := range t.msgs {
			if query.matches(m) {
				matched = append(matched, t)
				break
			}
		}
	}
	sort.Slice(matched, func(i, j int) bool {
		li, lj := matched[i].last(), matched[j].last()
		if !li.internal.Equal(lj.internal) {
			return li.internal.After(lj.internal)
		}
		return li.historyID > lj.historyID
	})
	start, end, next, ok := listPage(w, r, len(matched), size)
	if !ok {
		return
	}
	out := &gmail.ListThreadsResponse{ResultSizeEstimate: int64(len(matched)), NextPageToken: next}
	for _, t := range matched[start:end] {
		out.Threads = append(out.Threads, &gmail.Thread{Id: t.id, Snippet: snippet(t.last().text), HistoryId: t.last().historyID})
	}
	writeJSON(w, http.StatusOK, out)
}

// gmailMessages is users.messages.list: the messages matching q, newest
// first, paged.
func (s *Server) gmailMessages(w http.ResponseWriter, r *http.Request, a *account) {
	size, query, ok := gmailListRequest(w, r, a)
	if !ok {
		return
	}
	var matched []*mailMessage
	for _, m := range a.messages {
		if query.matches(m) {
			matched = append(matched, m)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].historyID > matched[j].historyID })
	start, end, next, ok := listPage(w, r, len(matched), size)
	if !ok {
		return
	}
	out := &gmail.ListMessagesResponse{ResultSizeEstimate: int64(len(matched)), NextPageToken: next}
	for _, m := range matched[start:end] {
		out.Messages = append(out.Messages, &gmail.Message{Id: m.id, ThreadId: m.threadID})
	}
	writeJSON(w, http.StatusOK, out)
}

// gmailListRequest reads what threads.list and messages.list share: the
// account, maxResults and q; false when it has answered the request itself.
func gmailListRequest(w http.ResponseWriter, r *http.Request, a *account) (int, gmailQuery, bool) {
	if !gmailUser(w, r, a) {
		return 0, nil, false
	}
	size, err := intParam(r, "maxResults", 100, 500)
	if err != nil {
		badRequest(w, err.Error())
		return 0, nil, false
	}
	return size, parseQuery(r.URL.Query().Get("q")), true
}

// listPage is page for a list request's pageToken; false when it has
// answered the request itself (a bad token).
func listPage(w http.ResponseWriter, r *http.Request, n, size int) (start, end int, next string, ok bool) {
	start, end, next, err := page(n, r.URL.Query().Get("pageToken"), size)
	if err != nil {
		badRequest(w, err.Error())
		return 0, 0, "", false
	}
	return start, end, next, true
}

// gmailQuery is a Gmail search reduced to what Sherpa sends: terms (from:, to:,
// subject:, rfc822msgid:, in:/is: sent, inbox, unread, or free text) ANDed
// within groups that OR joins.
type gmailQuery [][]queryTerm

type queryTerm struct{ op, value string }

func parseQuery(q string) gmailQuery {
	var out gmailQuery
	var group []queryTerm
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ", "{", " ", "}", " ").Replace(q)) {
		if tok == "OR" {
			out = append(out, group)
			group = nil
			continue
		}
		op, value, ok := strings.Cut(tok, ":")
		if !ok {
			op, value = "", tok
		}
		group = append(group, queryTerm{strings.ToLower(op), strings.ToLower(strings.Trim(value, `"`))})
	}
	return append(out, group)
}

func (q gmailQuery) matches(m *mailMessage) bool {
	for _, group := range q {
		all := true
		for _, t := range group {
			if !t.matches(m) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (t queryTerm) matches(m *mailMessage) bool {
	addrMatch := func(list []string) bool {
		for _, a := range list {
			if a == t.value || (!strings.Contains(t.value, "@") && strings.Contains(a, t.value)) {
				return true
			}
		}
		return false
	}
	switch t.op {
	case "from":
		return addrMatch(m.from)
	case "to":
		return addrMatch(m.to)
	case "subject":
		return strings.Contains(strings.ToLower(m.subject), t.value)
	case "rfc822msgid":
		return t.value != "" && strings.EqualFold(strings.Trim(m.messageID, "<>"), strings.Trim(t.value, "<>"))
	case "in", "is", "label":
		switch t.value {
		case "sent":
			return m.hasLabel("SENT")
		case "inbox":
			return m.hasLabel("INBOX")
		case "unread":
			return m.hasLabel("UNREAD")
		case "anywhere":
			return true
		}
		return false
	}
	value := t.value
	if t.op != "" {
		value = t.op + ":" + t.value
	}
	hay := strings.ToLower(m.subject + "\n" + m.text + "\n" + strings.Join(m.from, " ") + " " + strings.Join(m.to, " "))
	return strings.Contains(hay, value)
}

// DeliverMessage puts a new email from `from` into the account's inbox, starting
// a thread, and answers the thread id. The sandbox uses it to let a contact write
// first.
func (s *Server) DeliverMessage(userEmail, from, subject, body string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(userEmail)
	m, err := inbound(from, a.email, subject, body, nil)
	if err != nil {
		return "", err
	}
	a.store(m, "")
	return m.threadID, nil
}

// DeliverReply puts a reply from `from` to the latest message of the thread into
// the account's inbox (same thread, In-Reply-To and References set), the way a
// contact answering would. It answers the new message's id.
func (s *Server) DeliverReply(userEmail, threadID, from, body string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(userEmail)
	t := a.threads[threadID]
	if t == nil {
		return "", fmt.Errorf("sandbox: %s has no thread %q", userEmail, threadID)
	}
	last := t.last()
	// RFC 5322: the parent's References (or In-Reply-To), then its Message-ID.
	refs := strings.Fields(headerOf(last, "References"))
	if len(refs) == 0 {
		refs = strings.Fields(headerOf(last, "In-Reply-To"))
	}
	refs = append(refs, last.messageID)
	m, err := inbound(from, a.email, "Re: "+normSubject(last.subject), body, refs)
	if err != nil {
		return "", err
	}
	a.store(m, threadID)
	return m.id, nil
}

func headerOf(m *mailMessage, name string) string {
	for _, h := range m.payload.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// inbound builds an incoming message the way mail clients do: multipart/
// alternative with a base64 text/plain part and a quoted-printable HTML part.
func inbound(from, to, subject, body string, refs []string) (*mailMessage, error) {
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("sandbox: sender %q: %w", from, err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fmt.Fprintf(&buf, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@sandbox.example>\r\nMIME-Version: 1.0\r\n",
		from, to, mime.BEncoding.Encode("utf-8", subject), time.Now().Format(time.RFC1123Z), randomHex(12))
	if len(refs) > 0 {
		fmt.Fprintf(&buf, "In-Reply-To: %s\r\nReferences: %s\r\n", refs[len(refs)-1], strings.Join(refs, " "))
	}
	fmt.Fprintf(&buf, "Content-Type: multipart/alternative; boundary=%s\r\n\r\n", mw.Boundary())

	plain, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=UTF-8"},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		fmt.Fprintf(plain, "%s\r\n", enc[:76])
		enc = enc[76:]
	}
	fmt.Fprintf(plain, "%s\r\n", enc)

	htmlPart, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/html; charset=UTF-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(htmlPart)
	var h strings.Builder
	h.WriteString("<div dir=\"ltr\">")
	for _, line := range strings.Split(body, "\n") {
		h.WriteString(html.EscapeString(line) + "<br>")
	}
	h.WriteString("</div>")
	if _, err := qp.Write([]byte(h.String())); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	m, err := parseStored(buf.Bytes())
	if err != nil {
		return nil, err
	}
	m.labels = []string{"INBOX", "UNREAD"}
	return m, nil
}
