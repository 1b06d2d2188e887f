; filter.ll: a small SimpleOS IPC policy filter, hand-written LLVM IR
; (the equivalent C is in filter.c). Rebuild filter.o with:
;   llc -march=bpfel -mcpu=v1 -filetype=obj -O2 filter.ll -o filter.o
%struct.bpf_map_def = type { i32, i32, i32, i32, i32 }

@counts = dso_local global %struct.bpf_map_def { i32 2, i32 4, i32 8, i32 4, i32 0 }, section "maps", align 4
@_license = dso_local global [4 x i8] c"GPL\00", section "license", align 1

define dso_local i32 @ipc_filter(i8* %ctx) section "simpleos/ipc" {
entry:
  %key = alloca i32, align 4
  store i32 0, i32* %key, align 4
  %keyp = bitcast i32* %key to i8*
  %lookup = inttoptr i64 1 to i8* (i8*, i8*)*
  %mapp = bitcast %struct.bpf_map_def* @counts to i8*
  %v = call i8* %lookup(i8* %mapp, i8* %keyp)
  %isnull = icmp eq i8* %v, null
  br i1 %isnull, label %check, label %count

count:
  %vp = bitcast i8* %v to i64*
  %old = load i64, i64* %vp, align 8
  %new = add i64 %old, 1
  store i64 %new, i64* %vp, align 8
  br label %check

check:
  %lp8 = getelementptr i8, i8* %ctx, i64 16
  %lp = bitcast i8* %lp8 to i64*
  %label = load i64, i64* %lp, align 8
  %deny = icmp eq i64 %label, 7
  %r = zext i1 %deny to i32
  ret i32 %r
}

define dso_local i32 @event_filter(i8* %ctx) section "simpleos/event" {
entry:
  %kp = bitcast i8* %ctx to i64*
  %kind = load i64, i64* %kp, align 8
  %trace = inttoptr i64 4096 to i64 (i64)*
  %t = call i64 %trace(i64 %kind)
  %big = icmp ugt i64 %kind, 3
  %r = zext i1 %big to i32
  ret i32 %r
}
