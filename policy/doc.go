// Package policy will hold the policy checker: what each module may touch and how a faulting module is contained.
//
// Nothing is implemented here yet: the core (core/) comes first; see docs/architecture.md.
package policy
