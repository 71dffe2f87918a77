package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"path"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// ftpLister keeps a small pool of logged-in connections, at most the
// provider's max_connections open at once: an FTP connection carries one
// transfer at a time, and servers cap connections per client. A connection
// that fails in any way is thrown away, never returned to the pool, so a
// retry always starts on a fresh one: that is how a dropped connection is
// re-established.
type ftpLister struct {
	o          options
	addr       string
	user, pass string
	base       url.URL // ftp://host:port, for RemoteFile.URL

	slots chan struct{} // one token per open connection
	mu    sync.Mutex
	idle  []*ftpConn
	shut  bool
}

// ftpConn is one logged-in connection and the sockets under it, kept so
// that a cancelled context can cut them and unblock whatever waits on them.
type ftpConn struct {
	sc       *ftp.ServerConn
	mu       sync.Mutex
	sockets  []net.Conn // the control connection, then data connections
	lastUsed time.Time
}

func (c *ftpConn) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		_ = s.Close()
	}
}

func (c *ftpConn) track(s net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Data connections are closed by the FTP client when a transfer ends;
	// keep only the control connection and the latest data connection.
	if len(c.sockets) > 1 {
		c.sockets = c.sockets[:1]
	}
	c.sockets = append(c.sockets, s)
}

func newFTP(p *lang.Provider, user, pass string, o options) (*ftpLister, error) {
	if !p.Passive {
		// jlaffaye/ftp speaks passive mode only; active mode would also need
		// the server to connect back to this machine, which NAT rarely allows.
		o.log.Warn("active FTP mode is not supported; using passive mode")
	}
	if user == "" {
		// RFC 1635: anonymous FTP takes any password, by custom an e-mail
		// address.
		user, pass = "anonymous", "anonymous@"
	}
	port := p.Port
	if port == 0 {
		port = 21
	}
	addr := net.JoinHostPort(p.Host, strconv.Itoa(port))
	base := url.URL{Scheme: "ftp", Host: p.Host}
	if port != 21 {
		base.Host = addr
	}
	n := p.MaxConnections
	if n < 1 {
		n = 1
	}
	return &ftpLister{o: o, addr: addr, user: user, pass: pass, base: base, slots: make(chan struct{}, n)}, nil
}

// deadlineConn makes a silent peer an error: every read and write must make
// progress within the timeout. The FTP client sets no deadlines of its own.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Write(p)
}

// dial opens and logs in a new connection.
func (l *ftpLister) dial(ctx context.Context) (*ftpConn, error) {
	d := net.Dialer{Timeout: l.o.timeout}
	ctrl, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", l.addr, err)
	}
	c := &ftpConn{sockets: []net.Conn{ctrl}}
	first := true
	dialFunc := func(network, address string) (net.Conn, error) {
		if first { // the control connection, dialled above with ctx
			first = false
			return &deadlineConn{Conn: ctrl, timeout: l.o.timeout}, nil
		}
		s, err := d.Dial(network, address)
		if err != nil {
			return nil, err
		}
		c.track(s)
		return &deadlineConn{Conn: s, timeout: l.o.timeout}, nil
	}
	stop := context.AfterFunc(ctx, c.kill)
	defer stop()
	sc, err := ftp.Dial(l.addr, ftp.DialWithDialFunc(dialFunc))
	if err != nil {
		_ = ctrl.Close()
		return nil, fmt.Errorf("connecting to %s: %w", l.addr, err)
	}
	if err := sc.Login(l.user, l.pass); err != nil {
		_ = sc.Quit()
		err = fmt.Errorf("logging in to %s as %q: %w", l.addr, l.user, err)
		if !isNetErr(err) {
			// The server answered, and said no: retrying says no again.
			err = &permanent{err}
		}
		return nil, err
	}
	c.sc = sc
	c.lastUsed = time.Now()
	l.o.log.Debug("connected", "addr", l.addr, "user", l.user)
	return c, nil
}

// idleCheck is how long a pooled connection may sit unused before it is
// probed with NOOP: servers close idle sessions (vsftpd after 300s).
const idleCheck = 15 * time.Second

// get returns a connection: an idle one from the pool, or a new one when
// fewer than max_connections are open.
func (l *ftpLister) get(ctx context.Context) (*ftpConn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		l.mu.Lock()
		if l.shut {
			l.mu.Unlock()
			<-l.slots
			return nil, &permanent{errors.New("lister closed")}
		}
		var c *ftpConn
		if n := len(l.idle); n > 0 {
			c, l.idle = l.idle[n-1], l.idle[:n-1]
		}
		l.mu.Unlock()
		if c == nil {
			break
		}
		if time.Since(c.lastUsed) < idleCheck || c.sc.NoOp() == nil {
			return c, nil
		}
		l.o.log.Debug("dropping a stale connection")
		c.kill()
	}
	c, err := l.dial(ctx)
	if err != nil {
		<-l.slots
		return nil, err
	}
	return c, nil
}

// put returns a connection to the pool when it is still good, or closes it.
func (l *ftpLister) put(c *ftpConn, good bool) {
	defer func() { <-l.slots }()
	l.mu.Lock()
	if good && !l.shut {
		c.lastUsed = time.Now()
		l.idle = append(l.idle, c)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	if good {
		_ = c.sc.Quit()
	}
	c.kill()
}

// with runs op on a pooled connection, cut if ctx ends meanwhile, and
// classifies its error for retry.
func (l *ftpLister) with(ctx context.Context, op func(*ftp.ServerConn) error) error {
	c, err := l.get(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, c.kill)
	err = op(c.sc)
	cancelled := !stop()
	if cancelled && ctx.Err() != nil {
		err = errors.Join(ctx.Err(), err)
	}
	l.put(c, !cancelled && (err == nil || answered(err)))
	return classifyFTP(err)
}

// answered says the server replied with an error code, so the control
// connection is still in step and can be reused.
func answered(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && !isNetErr(err)
}

// classifyFTP marks the replies retrying cannot change as permanent: 5xx
// replies (no such file, permission denied) other than the ones servers use
// for overload. 4xx replies and broken connections are worth retrying.
func classifyFTP(err error) error {
	if err == nil || isPermanent(err) {
		return err
	}
	var te *textproto.Error
	if answered(err) && errors.As(err, &te) && te.Code >= 500 {
		return &permanent{err}
	}
	return err
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func (l *ftpLister) url(p string) string {
	u := l.base
	u.Path = p
	return u.String()
}

// List walks the folders one LIST at a time. A folder whose listing fails
// is listed again on a new connection; the folders done stay done.
func (l *ftpLister) List(ctx context.Context, root string, recursive bool) ([]RemoteFile, error) {
	if root == "" {
		root = "/"
	}
	var files []RemoteFile
	dirs := []string{root}
	seen := map[string]bool{}
	for len(dirs) > 0 {
		dir := dirs[0]
		dirs = dirs[1:]
		if seen[dir] {
			continue
		}
		seen[dir] = true
		var entries []*ftp.Entry
		err := l.o.retry(ctx, "list "+l.url(dir), func() error {
			return l.with(ctx, func(sc *ftp.ServerConn) error {
				var err error
				entries, err = sc.List(dir)
				return err
			})
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", l.url(dir), err)
		}
		if len(entries) == 0 && dir == root {
			// Many servers (vsftpd among them) list a missing folder as an
			// empty one; a mistyped source path would poll nothing forever.
			if err := l.checkDir(ctx, root); err != nil {
				return nil, fmt.Errorf("listing %s: %w", l.url(dir), err)
			}
		}
		for _, e := range entries {
			if e.Name == "." || e.Name == ".." || e.Name == "" {
				continue
			}
			p := path.Join(dir, e.Name)
			switch e.Type {
			case ftp.EntryTypeFolder:
				if recursive {
					dirs = append(dirs, p)
				}
			case ftp.EntryTypeFile:
				files = append(files, RemoteFile{Path: p, Name: e.Name, Size: int64(e.Size), ModTime: e.Time, URL: l.url(p)})
			default:
				// A link's target is unknown from LIST (file or folder, or a
				// loop back up the tree); following it is a guess.
				l.o.log.Debug("skipping a symbolic link", "path", p, "target", e.Target)
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// checkDir tells a missing folder from an empty one, by changing into it
// (the lister's paths are absolute, so the working folder matters to no
// other operation).
func (l *ftpLister) checkDir(ctx context.Context, dir string) error {
	return l.o.retry(ctx, "CWD "+l.url(dir), func() error {
		return l.with(ctx, func(sc *ftp.ServerConn) error {
			if err := sc.ChangeDir(dir); err != nil {
				return fmt.Errorf("no such folder: %w", err)
			}
			return nil
		})
	})
}

// Open streams a file with RETR, resuming with REST from the bytes already
// read when a transfer breaks, or starting again where the server refuses
// REST. The reader holds one of the provider's connections while a
// transfer is open: close it when done.
//
// Only the server's 226 reply and, when the size is known, the byte count
// prove a file whole; with no size listed, Open asks for it with SIZE.
func (l *ftpLister) Open(ctx context.Context, f RemoteFile) (io.ReadCloser, error) {
	if f.Size < 0 {
		// Without a size, a transfer cut short can look complete: servers
		// that had already handed the whole file to the network report
		// success (226). SIZE gives the byte count to hold the copy to.
		err := l.o.retry(ctx, "SIZE "+f.Path, func() error {
			return l.with(ctx, func(sc *ftp.ServerConn) error {
				n, err := sc.FileSize(f.Path)
				if err == nil {
					f.Size = n
				}
				return err
			})
		})
		if err != nil && !answered(err) {
			return nil, fmt.Errorf("opening %s: %w", f.URL, err)
		}
		if err != nil {
			l.o.log.Debug("size unknown; trusting the server's end-of-transfer reply", "file", f.URL, "error", err)
		}
	}
	noRest := false
	open := func(ctx context.Context, offset int64) (transfer, int64, error) {
		c, err := l.get(ctx)
		if err != nil {
			return nil, 0, err
		}
		stop := context.AfterFunc(ctx, c.kill)
		from := offset
		if noRest {
			from = 0
		}
		resp, err := c.sc.RetrFrom(f.Path, uint64(from))
		if err != nil && from > 0 && restRefused(err) {
			l.o.log.Info("server refuses REST; reading the file again from its start", "file", f.URL)
			noRest, from = true, 0
			resp, err = c.sc.Retr(f.Path)
		}
		if err != nil {
			stop()
			l.put(c, false)
			return nil, 0, classifyFTP(fmt.Errorf("RETR %s: %w", f.Path, err))
		}
		return &ftpTransfer{l: l, c: c, resp: resp, stop: stop}, from, nil
	}
	return newResumer(ctx, &l.o, f, open), nil
}

// restRefused tells a server without REST (502 not implemented, 500/501
// unknown command or argument, 504) from other failures.
func restRefused(err error) bool {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return false
	}
	switch te.Code {
	case ftp.StatusBadCommand, ftp.StatusBadArguments, ftp.StatusNotImplemented, ftp.StatusNotImplementedParameter:
		return true
	}
	return false
}

type ftpTransfer struct {
	l    *ftpLister
	c    *ftpConn
	resp *ftp.Response
	stop func() bool
}

func (t *ftpTransfer) Read(p []byte) (int, error) { return t.resp.Read(p) }

// end reads the server's closing reply: only 226 says the whole file was
// sent. An abandoned transfer leaves the connection mid-exchange, so it is
// not reused.
func (t *ftpTransfer) end(aborted bool) error {
	cancelled := !t.stop()
	if aborted || cancelled {
		t.l.put(t.c, false)
		return nil
	}
	err := t.resp.Close()
	t.l.put(t.c, err == nil)
	return classifyFTP(err)
}

// Close logs out of the pooled connections. Connections in use are closed
// when their operation ends.
func (l *ftpLister) Close() error {
	l.mu.Lock()
	idle := l.idle
	l.idle, l.shut = nil, true
	l.mu.Unlock()
	var errs []error
	for _, c := range idle {
		if err := c.sc.Quit(); err != nil && !isNetErr(err) {
			errs = append(errs, err)
		}
		c.kill()
	}
	return errors.Join(errs...)
}
