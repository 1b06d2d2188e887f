// Package campaign is the host side of `simpleos inject`: it reads fault-injection scenarios,
// expands them into a numbered plan, boots SimpleOS with chunks of that plan for the core's
// in-guest campaign runner, reads back what happened to every injection, and reports it.
//
// # Scenario files
//
// A scenario file (scenarios/*.scn) is a list of blocks, one statement per line; '#' starts a
// comment that runs to the end of the line:
//
//	scenario NAME        begins a block; NAME ([A-Za-z0-9._-], at most 64 bytes) is unique
//	                     among all the files of a campaign
//	    target   MODULE  the module to inject into: a module name of the policy in force
//	    class    CLASS   the fault class (Classes)
//	    after    DURATION  inject this long after the module instance started: a Go duration
//	                     in whole milliseconds, 0 to 10s
//	    count    N       how many injections, 1 to 100000
//	    expect   OUTCOME...  the acceptable outcomes in the tiered deployment (Outcomes)
//	end
//
// Every statement is required exactly once per block. ParseScenarios reports every problem
// as "FILE:LINE: message".
//
// # Plan
//
// Expand numbers the injections 1..N, spreading each class's injections evenly over the whole
// range, and within a class each scenario's (equal counts give plain round robin), so that
// every boot, which runs a consecutive chunk of the plan, exercises every class. A Shard i/n keeps the ids with
// (id-1) % n == i-1; AutoShard finds i and n in the environment of a task of a Slurm array job
// or a pod of a Kubernetes Indexed Job. Merge puts the shards' results files together. A boot receives its chunk as a Multiboot module whose string is
// "PATH simpleos-inject" and whose lines are "ID CLASS TARGET DELAY_MS", together with the
// kernel command line words "inject=on sensor=DEPLOYMENT inject.seed=N" (Cmdline).
//
// # Kernel protocol
//
// The in-guest runner prints, on the serial console, lines that start with "inject" (task
// output is prefixed "[name] " and never does):
//
//	inject: campaign 150 injections, deployment tiered
//	inject start id=17 class=null-deref target=sensor
//	inject result id=17 class=null-deref target=sensor outcome=restarted recovery_us=71234 detail="..."
//	inject: campaign done
//
// and powers off with status 0. The kernel's outcomes are handled, restarted, quarantined,
// breach and hang; the host adds core-crash (the boot ended with a core crash while the
// injection was open), hang (the boot timed out or went silent for the stall time while the
// injection was open) and not-run (the boot ended otherwise before the injection ran, an error
// of the run). After a core crash or a hang the rest of the chunk runs in a new boot.
package campaign
