package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Format writes m in the manifest syntax, one module after another with keywords in a fixed
// order, without comments. Parse(Format(m)) gives back m's modules (line numbers aside).
func Format(m *Manifest) []byte {
	var b strings.Builder
	if m == nil {
		return nil
	}
	for i, mod := range m.Modules {
		if i > 0 {
			b.WriteByte('\n')
		}
		stmt := func(kw string, vals ...string) {
			fmt.Fprintf(&b, "    %-8s", kw)
			for _, v := range vals {
				b.WriteByte(' ')
				b.WriteString(quote(v))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "module %s\n", quote(mod.Name))
		if mod.Binary != "" {
			stmt("binary", mod.Binary)
		}
		if mod.Ring != 0 {
			stmt("ring", strconv.Itoa(mod.Ring))
		}
		if len(mod.Ports) > 0 {
			var vs []string
			for _, r := range mod.Ports {
				vs = append(vs, r.String())
			}
			stmt("ports", vs...)
		}
		if len(mod.IRQs) > 0 {
			var vs []string
			for _, irq := range mod.IRQs {
				vs = append(vs, strconv.Itoa(irq))
			}
			stmt("irqs", vs...)
		}
		if len(mod.Memory) > 0 {
			var vs []string
			for _, r := range mod.Memory {
				vs = append(vs, r.String())
			}
			stmt("memory", vs...)
		}
		if mod.Device != nil {
			stmt("device", mod.Device.String())
		}
		if mod.DMA != 0 {
			stmt("dma", formatSize(mod.DMA))
		}
		if mod.Reserve != 0 {
			stmt("reserve", formatSize(mod.Reserve))
		}
		if mod.Quota != 0 {
			stmt("quota", formatSize(mod.Quota))
		}
		if c := mod.CPU; c != (CPUBudget{}) {
			stmt("cpu", strings.Fields(c.String())...)
		}
		for _, l := range []struct {
			kw    string
			items []string
		}{{"serves", mod.Serves}, {"calls", mod.Calls}, {"events", mod.Events}, {"publishes", mod.Publishes}} {
			if len(l.items) > 0 {
				stmt(l.kw, l.items...)
			}
		}
		if mod.ThirdParty {
			stmt("vendor", VendorThirdParty)
		}
		stmt("restart", mod.Restart.String())
		if mod.CrashBudget != 0 || mod.CrashWindow != 0 {
			stmt("crashes", fmt.Sprintf("%d/%v", mod.CrashBudget, mod.CrashWindow))
		}
		if mod.Watchdog != 0 {
			stmt("watchdog", mod.Watchdog.String())
		}
		if mod.Spin != 0 {
			stmt("spin", mod.Spin.String())
		}
		for _, c := range mod.Content {
			words := []string{c.Path}
			if c.Rollback != "" {
				words = append(words, "rollback", c.Rollback)
			}
			if c.Dir != "" {
				words = append(words, "dir", c.Dir)
			}
			stmt("content", words...)
		}
		for _, g := range mod.Files {
			mode := "ro"
			if g.Write {
				mode = "rw"
			}
			stmt("files", g.Path, mode)
		}
		if mod.Root != "" {
			stmt("root", mod.Root)
		}
		if mod.Cwd != "" {
			stmt("cwd", mod.Cwd)
		}
		for _, f := range mod.Filters {
			stmt("filter", f.Endpoint, f.Program)
		}
		if len(mod.Args) > 0 {
			stmt("args", mod.Args...)
		}
		b.WriteString("end\n")
	}
	return []byte(b.String())
}

// quote returns s as one word: as is when Parse would read it back unchanged, else quoted.
func quote(s string) string {
	if s == "" || s[0] == '#' || s[0] == '"' {
		return strconv.Quote(s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}
