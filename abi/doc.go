// Package abi is the interface between the SimpleOS core and the programs it runs, written
// once: system-call numbers, error numbers and the fixed-width names the kernel keeps for
// endpoints, events and content files. The core (core/kernel) and every user-side library
// (ipc, inject/fault, inject/fuzz, tier1/console, test programs) and the policy validator
// import it, so no number or limit is written twice.
//
// Everything here is usable in the kernel's trap context: constants, and nosplit methods that
// allocate nothing.
package abi
