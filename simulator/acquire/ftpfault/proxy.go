// Package ftpfault is an FTP proxy that breaks connections the way networks
// do, for tests of FTP clients against a real server: the acquisition
// package's tests and the CLI's end-to-end scripts put it in front of
// vsftpd. Nothing in the product imports it.
package ftpfault

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy stands between the client and vsftpd to break connections the
// way networks do. It relays the control connection, rewrites the server's
// passive-mode replies (227, 229) to data ports of its own, and relays each
// data connection, cutting file transfers (RETR) as told.
type Proxy struct {
	ln       net.Listener
	upstream string // vsftpd's control address

	// CutAfter > 0 cuts the data connection of a RETR after that many
	// bytes reached the client, for the first CutTimes RETRs (-1: all).
	CutAfter int64
	CutTimes int
	// CutControl also drops the control connection: the whole session is
	// lost, as when a link goes down.
	CutControl bool
	// Drain reads the whole file from the server before cutting the
	// client's side, so that the server reports success (226): only the
	// byte count can tell the client its copy is short.
	Drain bool
	// RefuseREST answers REST with 502, as servers without resume do.
	RefuseREST bool

	mu       sync.Mutex
	sessions []*session
	retrs    int      // RETR data connections seen
	cuts     int      // transfers cut
	commands []string // the client's commands, in order
}

// Start listens on a free port of 127.0.0.1 and relays each connection
// to upstream, the server's control address. Set the fault fields before
// the first client connects.
func Start(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ftpfault: %w", err)
	}
	p := &Proxy{ln: ln, upstream: upstream}
	go p.serve()
	return p, nil
}

// Close stops accepting connections and cuts the open ones.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.DropAll()
	return err
}

// Port is the proxy's port on 127.0.0.1.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Commands are the client's commands so far that start with prefix.
func (p *Proxy) Commands(prefix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.commands {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// Stats counts the file transfers seen and those cut.
func (p *Proxy) Stats() (retrs, cuts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.retrs, p.cuts
}

// DropAll cuts every session open now.
func (p *Proxy) DropAll() {
	p.mu.Lock()
	sessions := p.sessions
	p.sessions = nil
	p.mu.Unlock()
	for _, s := range sessions {
		s.close()
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.session(c)
	}
}

// session is one control connection.
type session struct {
	p        *Proxy
	client   net.Conn
	server   net.Conn
	wmu      sync.Mutex // writes to client come from two goroutines
	mu       sync.Mutex
	pending  *dataLink // the data connection the next command will use
	shutdown sync.Once
}

type dataLink struct {
	mu   sync.Mutex
	kind string // the command it serves: RETR, LIST...
}

func (s *session) close() {
	s.shutdown.Do(func() {
		s.client.Close()
		s.server.Close()
	})
}

func (s *session) toClient(line string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := io.WriteString(s.client, line)
	return err
}

func (p *Proxy) session(client net.Conn) {
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close()
		return
	}
	s := &session{p: p, client: client, server: server}
	defer s.close()
	p.mu.Lock()
	p.sessions = append(p.sessions, s)
	p.mu.Unlock()
	go s.commands()
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(line, "229 "):
			line = s.passive(line, true)
		case strings.HasPrefix(line, "227 "):
			line = s.passive(line, false)
		}
		if line == "" || s.toClient(line) != nil {
			return
		}
	}
}

// commands relays the client's commands, noting which command the pending
// data connection serves before the server can act on it.
func (s *session) commands() {
	defer s.close()
	r := bufio.NewReader(s.client)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0])
		s.p.mu.Lock()
		if verb == "PASS" {
			cmd = "PASS ***"
		}
		s.p.commands = append(s.p.commands, cmd)
		s.p.mu.Unlock()
		if verb == "REST" && s.p.RefuseREST {
			if s.toClient("502 REST not implemented.\r\n") != nil {
				return
			}
			continue
		}
		switch verb {
		case "RETR", "LIST", "NLST", "MLSD":
			s.mu.Lock()
			if d := s.pending; d != nil {
				d.mu.Lock()
				d.kind = verb
				d.mu.Unlock()
				s.pending = nil
			}
			s.mu.Unlock()
		}
		if _, err := io.WriteString(s.server, line); err != nil {
			return
		}
	}
}

// passive opens a data listener standing for the server's passive port and
// rewrites the reply to point at it.
func (s *session) passive(line string, extended bool) string {
	var port int
	if extended {
		i, j := strings.Index(line, "|||"), strings.LastIndex(line, "|")
		if i < 0 || j <= i+3 {
			return line
		}
		port, _ = strconv.Atoi(line[i+3 : j])
	} else {
		i, j := strings.Index(line, "("), strings.LastIndex(line, ")")
		if i < 0 || j < i {
			return line
		}
		f := strings.Split(line[i+1:j], ",")
		if len(f) != 6 {
			return line
		}
		hi, _ := strconv.Atoi(f[4])
		lo, _ := strconv.Atoi(f[5])
		port = hi*256 + lo
	}
	host, _, _ := net.SplitHostPort(s.p.upstream)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	d := &dataLink{}
	s.mu.Lock()
	s.pending = d
	s.mu.Unlock()
	go s.relayData(ln, net.JoinHostPort(host, strconv.Itoa(port)), d)
	mine := ln.Addr().(*net.TCPAddr).Port
	if extended {
		return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", mine)
	}
	return fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n", mine/256, mine%256)
}

func (s *session) relayData(ln net.Listener, upstream string, d *dataLink) {
	defer ln.Close()
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	client, err := ln.Accept()
	if err != nil {
		return
	}
	defer client.Close()
	server, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer server.Close()
	go func() { _, _ = io.Copy(server, client) }()

	// The server sends nothing before the command arrives, and the command
	// is noted before it is relayed: the first byte tells the kind.
	r := bufio.NewReader(server)
	if _, err := r.Peek(1); err != nil {
		return
	}
	d.mu.Lock()
	kind := d.kind
	d.mu.Unlock()
	p := s.p
	cut := false
	if kind == "RETR" {
		p.mu.Lock()
		p.retrs++
		if p.CutAfter > 0 && (p.CutTimes < 0 || p.cuts < p.CutTimes) {
			p.cuts++
			cut = true
		}
		p.mu.Unlock()
	}
	if !cut {
		_, _ = io.Copy(client, r)
		return
	}
	_, _ = io.CopyN(client, r, p.CutAfter)
	if p.Drain {
		_, _ = io.Copy(io.Discard, r)
	}
	client.Close()
	if p.CutControl {
		s.close()
	}
}
