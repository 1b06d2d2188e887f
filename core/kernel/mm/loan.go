package mm

// Loans: pages of one address space mapped into a window of another's for a while — the IPC
// page grants, where a caller lends a server pages of its memory for one call: read-only, or
// writable when the caller asks (abi.GrantWrite: a block driver reading into the caller's
// buffer) and its own pages are writable. The lender may unmap or protect those pages or end
// at any time; the loan ends first (revokeLoans, endLoansOf), so a borrower never keeps a
// mapping of a frame its lender has freed, nor writes a page its lender made read-only.
// Ending a loan unmaps it from the borrower.
//
// A pin is a loan to the kernel alone (no borrower, no window): a page of a task's own
// anonymous, writable memory that the kernel reads and writes through the direct map — a
// thread's IPC buffer (package ipc). It ends as a loan does (the task unmaps or protects the
// page, or ends) and when the space is snapshotted (the page becomes copy-on-write); its user
// pins it again on its next use, through the page tables.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// MaxLoanPages is the most pages one loan may cover.
const MaxLoanPages = 16

// maxLoans bounds the loans and pins in force at once: a loan per borrowing thread at most
// (IPC lends to a server thread for the call it is serving), and a pin per thread.
const maxLoans = 512

type loan struct {
	used             bool
	gen              uint32
	lender, borrower int32   // space ids; borrower -1: a pin
	lentVA           uintptr // where the pages are in the lender's space
	window           uintptr // where they are in the borrower's
	pages            uintptr
	frame            uint64 // a pin's page
}

var loans [maxLoans]loan

// Loan names a loan: its slot and generation (0: none). A Loan that has ended (its lender
// unmapped the pages, either space ended) is inert: End does nothing, Active is false.
type Loan uint64

//go:nosplit
func (l Loan) slot() (*loan, bool) {
	if l == 0 {
		return nil, false
	}
	ln := &loans[(l&0xffff-1)&(maxLoans-1)]
	return ln, ln.used && uint64(ln.gen) == uint64(l)>>16
}

// Active reports whether the loan is still in force.
//
//go:nosplit
func (l Loan) Active() bool {
	_, ok := l.slot()
	return ok
}

// End ends the loan, if it is still in force: its pages leave the borrower's window.
//
//go:nosplit
func (l Loan) End() {
	if ln, ok := l.slot(); ok {
		endLoan(ln)
	}
}

// Lend maps pages whole pages of from's memory at va (writable if write, else read-only) into
// to at window, a range of
// to's that only the kernel manages (GrantWindow), and records the loan. The pages must be
// from's own anonymous memory, readable (and writable, for a writable loan): never device memory, nor pages lent to from (so a
// loan cannot outlive its lender by being lent on). ok=false, and nothing mapped, otherwise.
//
//go:nosplit
func Lend(from, to *AddressSpace, va, pages, window uintptr, write bool) (Loan, bool) {
	if pages == 0 || pages > MaxLoanPages || va&(PageSize-1) != 0 || !UserRange(va, va+pages*PageSize) {
		return 0, false
	}
	free := freeLoan()
	prot, flags := uint32(ProtRead), uint64(PTENX)
	if write {
		prot, flags = ProtRead|ProtWrite, PTENX|PTEWrite
	}
	if to.user {
		flags |= PTEUser
	}
	if free < 0 || !to.AddRegion(window, window+pages*PageSize, prot, KindGrant) {
		return 0, false
	}
	for i := uintptr(0); i < pages; i++ {
		p := va + i*PageSize
		r := from.Find(p)
		if r < 0 || from.At(r).Kind != KindAnon || write && from.At(r).Prot&ProtWrite == 0 {
			unmapWindow(to, window, i, pages)
			return 0, false
		}
		if _, ok := from.UserPage(p, write); !ok {
			unmapWindow(to, window, i, pages)
			return 0, false
		}
		pa := from.root.Lookup(p) & PTEAddrMask
		if !to.root.MapPage(window+i*PageSize, pa, flags, to.src()) { // not owned: the lender's frame
			unmapWindow(to, window, i, pages)
			return 0, false
		}
	}
	ln := &loans[free&(maxLoans-1)]
	ln.used, ln.lender, ln.borrower = true, from.id, to.id
	ln.lentVA, ln.window, ln.pages = va, window, pages
	ln.gen++
	from.lent++
	return Loan(uint64(ln.gen)<<16 | uint64(free+1)), true
}

// freeLoan returns a free slot of the loan table, or -1.
//
//go:nosplit
func freeLoan() int {
	for i := range loans {
		if !loans[i].used {
			return i
		}
	}
	return -1
}

// endLoan unmaps a loan from its borrower and frees its slot.
//
//go:nosplit
func endLoan(ln *loan) {
	if ln.borrower < 0 {
		Space(ln.lender).pins--
		ln.used = false
		return
	}
	unmapWindow(Space(ln.borrower), ln.window, ln.pages, ln.pages)
	Space(ln.lender).lent--
	ln.used = false
}

// Pin pins page va of as, which must be its own anonymous, writable memory, for the kernel's
// use through the direct map (see the top of the file): the page is faulted in and made
// private first (a copy-on-write page is copied). ok=false if it is not such a page or every
// slot is taken.
//
//go:nosplit
func Pin(as *AddressSpace, va uintptr) (Loan, bool) {
	if va&(PageSize-1) != 0 || !UserRange(va, va+PageSize) {
		return 0, false
	}
	r := as.Find(va)
	if r < 0 || as.At(r).Kind != KindAnon || as.At(r).Prot&ProtWrite == 0 {
		return 0, false
	}
	if _, ok := as.UserPage(va, true); !ok {
		return 0, false
	}
	free := freeLoan()
	if free < 0 {
		return 0, false
	}
	ln := &loans[free&(maxLoans-1)]
	ln.used, ln.lender, ln.borrower = true, as.id, -1
	ln.lentVA, ln.window, ln.pages = va, 0, 1
	ln.frame = as.root.Lookup(va) & PTEAddrMask
	ln.gen++
	as.pins++
	return Loan(uint64(ln.gen)<<16 | uint64(free+1)), true
}

// Pinned returns the kernel address of a pin's page; ok=false once the pin has ended (or l is
// not a pin).
//
//go:nosplit
func (l Loan) Pinned() (uintptr, bool) {
	ln, ok := l.slot()
	if !ok || ln.borrower >= 0 {
		return 0, false
	}
	return DirectMap(ln.frame), true
}

// endPinsOf ends the pins of as's pages (it is about to be snapshotted).
//
//go:nosplit
func endPinsOf(as *AddressSpace) {
	for i := range loans {
		if ln := &loans[i]; as.pins > 0 && ln.used && ln.borrower < 0 && ln.lender == as.id {
			endLoan(ln)
		}
	}
}

// unmapWindow clears the first mapped of a window's pages and drops its region of n pages.
//
//go:nosplit
func unmapWindow(as *AddressSpace, window, mapped, n uintptr) {
	for i := uintptr(0); i < mapped; i++ {
		as.root.ClearPage(window + i*PageSize) // the frame stays the lender's
	}
	as.Carve(window, window+n*PageSize) // a whole region: carving it never splits one
}

// revokeLoans ends every loan of as's pages in [start, end): called before those pages are
// unmapped or replaced.
//
//go:nosplit
func revokeLoans(as *AddressSpace, start, end uintptr) {
	if as.lent == 0 && as.pins == 0 {
		return
	}
	for i := range loans {
		ln := &loans[i]
		if ln.used && ln.lender == as.id && ln.lentVA < end && start < ln.lentVA+ln.pages*PageSize {
			endLoan(ln)
		}
	}
}

// endLoansOf ends the loans as is party to, as it is destroyed: those of its pages (unmapped
// from their borrowers), and those it borrowed (its page table goes with it).
//
//go:nosplit
func endLoansOf(as *AddressSpace) {
	for i := range loans {
		ln := &loans[i]
		if !ln.used {
			continue
		}
		switch {
		case ln.lender == as.id:
			endLoan(ln)
		case ln.borrower >= 0 && ln.borrower == as.id:
			Space(ln.lender).lent--
			ln.used = false
		}
	}
}
