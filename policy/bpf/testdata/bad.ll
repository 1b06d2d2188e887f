; bad.ll: one program that verifies and one that dereferences a map value
; without checking it against NULL. Rebuild bad.o with:
;   llc -march=bpfel -mcpu=v1 -filetype=obj -O2 bad.ll -o bad.o
%struct.bpf_map_def = type { i32, i32, i32, i32, i32 }

@counts = dso_local global %struct.bpf_map_def { i32 2, i32 4, i32 8, i32 4, i32 0 }, section "maps", align 4
@_license = dso_local global [4 x i8] c"GPL\00", section "license", align 1

define dso_local i32 @good(i8* %ctx) section "simpleos/ipc" {
  ret i32 0
}

define dso_local i32 @unchecked(i8* %ctx) section "simpleos/ipc" {
entry:
  %key = alloca i32, align 4
  store i32 0, i32* %key, align 4
  %keyp = bitcast i32* %key to i8*
  %lookup = inttoptr i64 1 to i8* (i8*, i8*)*
  %mapp = bitcast %struct.bpf_map_def* @counts to i8*
  %v = call i8* %lookup(i8* %mapp, i8* %keyp)
  %vp = bitcast i8* %v to i64*
  %old = load i64, i64* %vp, align 8
  %r = trunc i64 %old to i32
  ret i32 %r
}
