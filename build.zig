//! Builds libeager, the C kernels behind deno-eager, as one shared library that runs on
//! every CPU of its architecture, and libeager_buffers, the small Node-API module that hands
//! out its output buffers (csrc/buffers/). Pinned to Zig 0.15.2 (build.zig.zon): the build API
//! changes between releases. `zig build -Doptimize=ReleaseFast` is what scripts/build.ts
//! runs; `-Dtarget=aarch64-linux-gnu` (or a macOS triple) cross-builds.
//!
//! NOTE: the target CPU defaults to the architecture's baseline, never the build machine's
//! (`-Dcpu` may still name one). csrc/kernels/ is compiled once per instruction-set level
//! into a static library of its own (x86-64: v2, v3, v4; aarch64: NEON), and csrc/cpu.c
//! picks a level at load. No BLAS is linked: csrc/blas.c finds one at run time.
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

const Level = struct { name: []const u8, cpu: ?*const std.Target.Cpu.Model };

const x86_levels = [_]Level{
    .{ .name = "v2", .cpu = &std.Target.x86.cpu.x86_64_v2 },
    .{ .name = "v3", .cpu = &std.Target.x86.cpu.x86_64_v3 },
    .{ .name = "v4", .cpu = &std.Target.x86.cpu.x86_64_v4 },
};
// NEON is part of the aarch64 baseline: one level, at the target's own CPU.
const aarch64_levels = [_]Level{.{ .name = "neon", .cpu = null }};

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{ .default_target = .{ .cpu_model = .baseline } });
    const optimize = b.standardOptimizeOption(.{});
    const levels: []const Level = switch (target.result.cpu.arch) {
        .x86_64 => &x86_levels,
        .aarch64 => &aarch64_levels,
        else => @panic("libeager builds for x86_64 and aarch64 only"),
    };

    // Release builds are stripped: the symbol table stays, debug info goes (6 MB -> 2 MB).
    const strip = optimize != .Debug;
    const module = b.createModule(.{
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = strip,
    });
    module.addCSourceFiles(.{ .root = b.path("csrc"), .files = cSources(b, "csrc"), .flags = &c_flags });
    module.addCSourceFile(.{ .file = b.path("csrc/generated/dispatch.c"), .flags = &c_flags });
    module.addIncludePath(b.path("csrc"));
    if (target.result.os.tag == .linux) {
        module.linkSystemLibrary("m", .{});
        module.linkSystemLibrary("pthread", .{});
        module.linkSystemLibrary("dl", .{});
    }
    for (levels) |level| module.linkLibrary(kernelLevel(b, target, optimize, level));

    const lib = b.addLibrary(.{ .name = "eager", .linkage = .dynamic, .root_module = module });
    b.installArtifact(lib);
    b.installArtifact(outputBuffers(b, target, optimize, strip));
}

/// libeager_buffers: the Node-API module that hands JavaScript unzeroed output buffers and
/// asks V8 for collections (csrc/buffers/), a library of its own so that the kernels need
/// no Node-API host. It needs nothing from libeager.
fn outputBuffers(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    strip: bool,
) *std.Build.Step.Compile {
    const module = b.createModule(.{
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = strip,
    });
    module.addCSourceFiles(.{ .root = b.path("csrc/buffers"), .files = cSources(b, "csrc/buffers"), .flags = &c_flags });
    module.addIncludePath(b.path("csrc"));
    if (target.result.os.tag == .linux) {
        module.linkSystemLibrary("pthread", .{});
        module.linkSystemLibrary("dl", .{});
    }
    return b.addLibrary(.{ .name = "eager_buffers", .linkage = .dynamic, .root_module = module });
}

/// csrc/kernels/ compiled for one instruction-set level, every external name suffixed
/// with the level's (csrc/internal.h).
fn kernelLevel(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    level: Level,
) *std.Build.Step.Compile {
    var query = target.query;
    if (level.cpu) |cpu| {
        query.cpu_model = .{ .explicit = cpu };
        query.cpu_features_add = .empty;
        query.cpu_features_sub = .empty;
    }
    const module = b.createModule(.{
        .target = b.resolveTargetQuery(query),
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
        .strip = optimize != .Debug,
    });
    // NOTE: -Wno-psabi: the kernels pass 64-byte vectors between static helpers, which
    // clang flags below AVX-512 because such a call would differ from one compiled for
    // AVX-512. Here it cannot happen: every function of a level is compiled with the same
    // flags, and no external function takes or returns a vector (tests/cpu_level_test.ts
    // checks the headers).
    const level_flags = [_][]const u8{ b.fmt("-DEAGER_LEVEL={s}", .{level.name}), "-Wno-psabi" };
    const flags = std.mem.concat(b.allocator, []const u8, &.{ &c_flags, &level_flags }) catch
        @panic("out of memory");
    module.addCSourceFiles(.{ .root = b.path("csrc/kernels"), .files = cSources(b, "csrc/kernels"), .flags = flags });
    module.addIncludePath(b.path("csrc"));
    return b.addLibrary(.{
        .name = b.fmt("eager_kernels_{s}", .{level.name}),
        .linkage = .static,
        .root_module = module,
    });
}

/// Every .c file directly in `folder`, sorted.
fn cSources(b: *std.Build, folder: []const u8) []const []const u8 {
    var dir = b.build_root.handle.openDir(folder, .{ .iterate = true }) catch
        @panic("cannot open a csrc folder");
    defer dir.close();
    var files: std.ArrayList([]const u8) = .empty;
    var it = dir.iterate();
    while (it.next() catch @panic("cannot list a csrc folder")) |entry| {
        if (entry.kind == .file and std.mem.endsWith(u8, entry.name, ".c"))
            files.append(b.allocator, b.dupe(entry.name)) catch @panic("out of memory");
    }
    std.mem.sort([]const u8, files.items, {}, lessThan);
    return files.items;
}

fn lessThan(_: void, a: []const u8, b: []const u8) bool {
    return std.mem.lessThan(u8, a, b);
}
