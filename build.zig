//! Builds libeager, the C kernels behind deno-eager, as a shared library linking
//! OpenBLAS. Pinned to Zig 0.15.2 (build.zig.zon): the build API changes between
//! releases. `zig build -Doptimize=ReleaseFast` is what scripts/build.ts runs.
const std = @import("std");

// NOTE: -fwrapv makes signed overflow wrap (integer tensors wrap as in TensorFlow);
// -fno-math-errno lets sqrt and friends vectorise; UBSan is off because its traps
// would kill the user's Deno process instead of returning a status.
const c_flags = [_][]const u8{
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
    "-fwrapv",
    "-fno-math-errno",
    "-fno-sanitize=undefined",
    "-fvisibility=hidden",
};

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const blas_include = b.option([]const u8, "blas-include", "folder holding cblas.h") orelse
        "/usr/include/x86_64-linux-gnu";
    const blas_lib = b.option([]const u8, "blas-lib", "folder holding libopenblas.so") orelse
        "/usr/lib/x86_64-linux-gnu";

    const module = b.createModule(.{ .target = target, .optimize = optimize, .link_libc = true });
    module.addCSourceFiles(.{ .root = b.path("csrc"), .files = cSources(b), .flags = &c_flags });
    module.addIncludePath(b.path("csrc"));
    module.addSystemIncludePath(.{ .cwd_relative = blas_include });
    module.addLibraryPath(.{ .cwd_relative = blas_lib });
    module.linkSystemLibrary("openblas", .{});
    module.linkSystemLibrary("m", .{});
    module.linkSystemLibrary("pthread", .{});

    const lib = b.addLibrary(.{ .name = "eager", .linkage = .dynamic, .root_module = module });
    b.installArtifact(lib);
}

/// Every csrc/*.c file (the CUDA sources live in csrc/cuda/ and are not listed).
fn cSources(b: *std.Build) []const []const u8 {
    var dir = b.build_root.handle.openDir("csrc", .{ .iterate = true }) catch
        @panic("cannot open csrc/");
    defer dir.close();
    var files: std.ArrayList([]const u8) = .empty;
    var it = dir.iterate();
    while (it.next() catch @panic("cannot list csrc/")) |entry| {
        if (entry.kind == .file and std.mem.endsWith(u8, entry.name, ".c"))
            files.append(b.allocator, b.dupe(entry.name)) catch @panic("out of memory");
    }
    std.mem.sort([]const u8, files.items, {}, lessThan);
    return files.items;
}

fn lessThan(_: void, a: []const u8, b: []const u8) bool {
    return std.mem.lessThan(u8, a, b);
}
