package virtio

// Request is one device request as Config.Tamper sees it, its descriptor chain written and
// not yet handed to the device: the hook of the driver's fault injection (the driver classes
// of package inject/fault, committed by tier1/blk and by the core's monolithic blk).
type Request struct {
	Type   uint32 // ReqIn, ReqOut, ReqFlush or ReqGetID
	Sector uint64
	Bytes  int // data bytes
	// Done, when the hook sets it, is called with the request's result once the driver has
	// it (nil: the device completed it with status OK).
	Done func(err error)

	q          *queue
	first, n   int // the data descriptors
	withheld   bool
	redirected bool
	redirectTo uint64
}

// Request types.
const (
	ReqIn    = reqIn
	ReqOut   = reqOut
	ReqFlush = reqFlush
	ReqGetID = reqGetID
)

// RedirectData points every data descriptor at I/O address addr instead of the bounce
// buffer. Each descriptor is at most a page when the queue is large enough (the bounce buffer
// is cut one descriptor per page), so the device touches addr's page and nothing after it.
func (r *Request) RedirectData(addr uint64) {
	r.redirected, r.redirectTo = true, addr
	for i := r.first; i < r.first+r.n; i++ {
		d := r.q.mem[descSize*i : descSize*(i+1)]
		putLE64(d[0:], addr)
	}
}

// Withhold keeps the request from the device: it is neither made available nor notified, as
// if the device never completed it. The driver waits for it until its timeout.
func (r *Request) Withhold() { r.withheld = true }
