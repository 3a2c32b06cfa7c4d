package importers

import "io"

// progressReader reports the bytes read through it to fn: at most once
// per step bytes, and once at the end of the input.
type progressReader struct {
	r           io.Reader
	fn          func(done, total int)
	done, total int
	next        int
}

const progressStep = 1 << 20

func newProgressReader(r io.Reader, total int64, fn func(done, total int)) io.Reader {
	if fn == nil {
		return r
	}
	return &progressReader{r: r, fn: fn, total: int(total), next: progressStep}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += n
	if p.done >= p.next || (err == io.EOF && p.done > 0) {
		p.fn(min(p.done, p.total), p.total)
		p.next = p.done + progressStep
	}
	return n, err
}
