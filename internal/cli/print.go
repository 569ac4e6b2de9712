package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Out is the program's standard output, safe for concurrent use.
func (s *Session) Out() io.Writer { return s.app.Stdout }

// Printf prints one line (or more) to the program's standard output.
func (s *Session) Printf(format string, args ...any) {
	fmt.Fprintf(s.app.Stdout, format, args...)
}

// PrintNotification prints a notification on one line:
//
//	notification ES4 ProfileEnabled eid=8904... iccid=8931...
func (s *Session) PrintNotification(n *esimgw.Notification) {
	s.Printf("%s\n", FormatNotification(n))
}

// FormatNotification renders a notification on one line.
func FormatNotification(n *esimgw.Notification) string {
	line := fmt.Sprintf("notification %s %s eid=%s iccid=%s", n.Interface, n.Kind, n.Eid, n.Iccid)
	if n.Kind == esimgw.SMSRChange && n.EIS != nil {
		line += " smsr-id=" + n.EIS.SmsrID
	}
	if !n.CompletionTimestamp.IsZero() {
		line += " at " + n.CompletionTimestamp.UTC().Format("2006-01-02T15:04:05Z")
	}
	return line
}

// PrintInbound prints a message nobody waited for: a callback of a call made elsewhere (another process,
// before a restart), a notification no handler took, or an element this library does not know.
func (s *Session) PrintInbound(in *esimgw.Inbound) {
	s.Printf("%s\n", FormatInbound(in))
}

// FormatInbound renders an unmatched message on one line.
func FormatInbound(in *esimgw.Inbound) string {
	switch in.Kind {
	case esimgw.InboundCallback:
		o := esimgw.OutcomeOf(in.Warning, in.Err)
		line := fmt.Sprintf("callback %s %s %s", in.Interface, in.Function, o.Status)
		if o.StatusCode != "" {
			line += " " + o.StatusCode + " (" + o.Description + ")"
		}
		return line + " FunctionCallIdentifier=" + in.FunctionCallIdentifier() + " relatesTo=" + in.RelatesTo
	case esimgw.InboundNotification:
		if in.Notification != nil {
			return FormatNotification(in.Notification)
		}
		return fmt.Sprintf("notification %s %s", in.Interface, in.Function)
	default:
		return fmt.Sprintf("unknown message %s (acknowledged)", in.Function)
	}
}

// FormatOutcome renders a result: EXECUTED_SUCCESS, or FAILED 8.2.1,3.8 (Profile ICCID: refused): message.
func FormatOutcome(o esimgw.Outcome) string {
	line := string(o.Status)
	if o.StatusCode != "" {
		line += " " + o.StatusCode
	}
	if o.Description != "" {
		line += " (" + o.Description + ")"
	}
	if o.Message != "" && !strings.Contains(line, o.Message) {
		line += ": " + o.Message
	}
	return line
}

// PrintEIS prints an eUICC Information Set as a table of its profiles, each line after indent.
func PrintEIS(w io.Writer, indent, eid string, eis *rps.EISType) {
	if eis == nil {
		fmt.Fprintf(w, "%seUICC %s: the gateway sent no EIS\n", indent, eid)
		return
	}
	fmt.Fprintf(w, "%seUICC %s  SM-SR %s  memory for profiles %d bytes", indent, eid, eis.SmsrID, eis.AvailableMemoryForProfiles)
	if eis.LastAuditDate != nil {
		fmt.Fprintf(w, "  last audit %s", eis.LastAuditDate.UTC().Format("2006-01-02T15:04:05Z"))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, indent+"  ICCID\tSTATE\tFALL-BACK\tPROFILE TYPE\tMNO-ID\tMEMORY")
	for _, p := range eis.ProfileInfo {
		fb := ""
		if p.FallbackAttribute {
			fb = "yes"
		}
		fmt.Fprintf(tw, indent+"  %s\t%s\t%s\t%s\t%s\t%d\n", p.Iccid, p.State, fb, Dash(p.ProfileType), Dash(p.MnoID), p.AllocatedMemory)
	}
	if len(eis.ProfileInfo) == 0 {
		fmt.Fprintln(tw, indent+"  (no profiles of yours)\t\t\t\t\t")
	}
	_ = tw.Flush()
}

// Dash returns s, or "-" when it is empty, so that an empty table cell still reads as one.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// EnabledICCID returns the ICCID of the enabled profile in eis, or "".
func EnabledICCID(eis *rps.EISType) string {
	if eis == nil {
		return ""
	}
	for _, p := range eis.ProfileInfo {
		if p.State == rps.ProfileStateTypeEnabled {
			return p.Iccid
		}
	}
	return ""
}
