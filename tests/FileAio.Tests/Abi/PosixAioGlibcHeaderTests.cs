using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using FileAio.Interop.PosixAio;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Abi;

/// <summary>
/// Pins the glibc declarations against real headers: a small C file, generated from the tables below and compiled
/// with gcc at test time, evaluates <c>sizeof</c>, <c>offsetof</c>, member sizes and constant values from
/// <c>&lt;aio.h&gt;</c>, <c>&lt;signal.h&gt;</c>, <c>&lt;fcntl.h&gt;</c> and <c>&lt;errno.h&gt;</c>; each is compared
/// with the C# declaration. The native gcc checks this machine's CPU; a cross compiler, where installed, checks the
/// other one (x86-64 and arm64 share the layout, and the C# declarations do not depend on the CPU). Each compiler
/// that is missing skips its case with the reason; the documented numbers are still checked by
/// <see cref="PosixAioLayoutTests"/>.
/// </summary>
public sealed class PosixAioGlibcHeaderTests : FileAioTest
{
    /// <summary>A C struct member and the C# field that declares it: its offset and its size are compared.</summary>
    private sealed record Member(string CStruct, string CMember, Type CsType, string CsField);

    private static readonly Member[] s_members =
    [
        new("aiocb", "aio_fildes", typeof(GlibcAiocb), nameof(GlibcAiocb.Fildes)),
        new("aiocb", "aio_lio_opcode", typeof(GlibcAiocb), nameof(GlibcAiocb.LioOpcode)),
        new("aiocb", "aio_reqprio", typeof(GlibcAiocb), nameof(GlibcAiocb.ReqPrio)),
        new("aiocb", "aio_buf", typeof(GlibcAiocb), nameof(GlibcAiocb.Buf)),
        new("aiocb", "aio_nbytes", typeof(GlibcAiocb), nameof(GlibcAiocb.NBytes)),
        new("aiocb", "aio_sigevent", typeof(GlibcAiocb), nameof(GlibcAiocb.SigEvent)),
        new("aiocb", "__error_code", typeof(GlibcAiocb), nameof(GlibcAiocb.ErrorCode)),
        new("aiocb", "__return_value", typeof(GlibcAiocb), nameof(GlibcAiocb.ReturnValue)),
        new("aiocb", "aio_offset", typeof(GlibcAiocb), nameof(GlibcAiocb.Offset)),
        // aiocb64 is the same structure on LP64; pin that too, since an engine may meet either name.
        new("aiocb64", "aio_sigevent", typeof(GlibcAiocb), nameof(GlibcAiocb.SigEvent)),
        new("aiocb64", "__error_code", typeof(GlibcAiocb), nameof(GlibcAiocb.ErrorCode)),
        new("aiocb64", "aio_offset", typeof(GlibcAiocb), nameof(GlibcAiocb.Offset)),
        new("sigevent", "sigev_value", typeof(GlibcSigevent), nameof(GlibcSigevent.Value)),
        new("sigevent", "sigev_signo", typeof(GlibcSigevent), nameof(GlibcSigevent.Signo)),
        new("sigevent", "sigev_notify", typeof(GlibcSigevent), nameof(GlibcSigevent.Notify)),
        new("sigevent", "sigev_notify_function", typeof(GlibcSigevent), nameof(GlibcSigevent.NotifyFunction)),
        new("sigevent", "sigev_notify_attributes", typeof(GlibcSigevent), nameof(GlibcSigevent.NotifyAttributes)),
        new("sigevent", "_sigev_un._tid", typeof(GlibcSigevent), nameof(GlibcSigevent.ThreadId)),
        new("aioinit", "aio_threads", typeof(GlibcAioInit), nameof(GlibcAioInit.Threads)),
        new("aioinit", "aio_num", typeof(GlibcAioInit), nameof(GlibcAioInit.Num)),
        new("aioinit", "aio_locks", typeof(GlibcAioInit), nameof(GlibcAioInit.Locks)),
        new("aioinit", "aio_usedba", typeof(GlibcAioInit), nameof(GlibcAioInit.UsedBa)),
        new("aioinit", "aio_debug", typeof(GlibcAioInit), nameof(GlibcAioInit.Debug)),
        new("aioinit", "aio_numusers", typeof(GlibcAioInit), nameof(GlibcAioInit.NumUsers)),
        new("aioinit", "aio_idle_time", typeof(GlibcAioInit), nameof(GlibcAioInit.IdleTime)),
        new("aioinit", "aio_reserved", typeof(GlibcAioInit), nameof(GlibcAioInit.Reserved)),
        new("timespec", "tv_sec", typeof(Timespec), nameof(Timespec.Seconds)),
        new("timespec", "tv_nsec", typeof(Timespec), nameof(Timespec.Nanoseconds)),
    ];

    private static readonly (string C, long CSharp)[] s_sizes =
    [
        ("sizeof(struct aiocb)", Unsafe.SizeOf<GlibcAiocb>()),
        ("sizeof(struct aiocb64)", Unsafe.SizeOf<GlibcAiocb>()),
        ("sizeof(struct sigevent)", Unsafe.SizeOf<GlibcSigevent>()),
        ("sizeof(struct aioinit)", Unsafe.SizeOf<GlibcAioInit>()),
        ("sizeof(struct timespec)", Unsafe.SizeOf<Timespec>()),
    ];

    private static readonly (string C, long CSharp)[] s_constants =
    [
        ("SIGEV_SIGNAL", GlibcAioConstants.SIGEV_SIGNAL),
        ("SIGEV_NONE", GlibcAioConstants.SIGEV_NONE),
        ("SIGEV_THREAD", GlibcAioConstants.SIGEV_THREAD),
        ("SIGEV_THREAD_ID", GlibcAioConstants.SIGEV_THREAD_ID),
        ("LIO_READ", GlibcAioConstants.LIO_READ),
        ("LIO_WRITE", GlibcAioConstants.LIO_WRITE),
        ("LIO_NOP", GlibcAioConstants.LIO_NOP),
        ("LIO_WAIT", GlibcAioConstants.LIO_WAIT),
        ("LIO_NOWAIT", GlibcAioConstants.LIO_NOWAIT),
        ("AIO_CANCELED", GlibcAioConstants.AIO_CANCELED),
        ("AIO_NOTCANCELED", GlibcAioConstants.AIO_NOTCANCELED),
        ("AIO_ALLDONE", GlibcAioConstants.AIO_ALLDONE),
        ("AIO_PRIO_DELTA_MAX", GlibcAioConstants.AIO_PRIO_DELTA_MAX),
        ("O_SYNC", GlibcAioConstants.O_SYNC),
        ("O_DSYNC", GlibcAioConstants.O_DSYNC),
        ("EINPROGRESS", GlibcAioConstants.EINPROGRESS),
        ("ECANCELED", GlibcAioConstants.ECANCELED),
        ("EAGAIN", GlibcAioConstants.EAGAIN),
    ];

    private readonly ITestOutputHelper _output;

    public PosixAioGlibcHeaderTests(ITestOutputHelper output) => _output = output;

    /// <summary>Every fact the C program prints, in order: what C evaluates and what the C# declaration says.</summary>
    private static List<(string C, long CSharp)> Facts()
    {
        var facts = new List<(string, long)>(s_sizes);
        foreach (Member m in s_members)
        {
            Type fieldType = m.CsType.GetField(m.CsField)!.FieldType;
            facts.Add(($"offsetof(struct {m.CStruct}, {m.CMember})", (long)Marshal.OffsetOf(m.CsType, m.CsField)));
            facts.Add(($"sizeof(((struct {m.CStruct} *)0)->{m.CMember})", Marshal.SizeOf(fieldType)));
        }
        facts.AddRange(s_constants);
        return facts;
    }

    /// <summary>The includes, and a guard: musl and other C libraries have their own &lt;aio.h&gt;, and these
    /// declarations are glibc's only. The first two facts are glibc's version.</summary>
    private static string Prologue()
    {
        var source = new StringBuilder("#define _GNU_SOURCE\n");
        foreach (string header in new[] { "aio.h", "signal.h", "fcntl.h", "errno.h", "limits.h", "time.h", "stddef.h" })
        {
            source.AppendLine(CultureInfo.InvariantCulture, $"#include <{header}>");
        }
        source.AppendLine("#ifndef __GLIBC__");
        source.AppendLine("#error FILEAIO_NOT_GLIBC");
        source.AppendLine("#endif");
        return source.ToString();
    }

    /// <summary>Compiles the facts with <paramref name="compiler"/> (the native gcc, or a cross compiler for the
    /// other CPU FileAio supports) and compares them with the C# declarations.</summary>
    [Theory]
    [InlineData("gcc", "")]
    [InlineData("gcc", "-D_FILE_OFFSET_BITS=64")]
    [InlineData("aarch64-linux-gnu-gcc", "")]
    [InlineData("x86_64-linux-gnu-gcc", "")]
    public void GlibcDeclarations_MatchTheHeadersTheCompilerSees(string compiler, string defines)
    {
        Require.Linux();
        string? gcc = CHeaderFacts.FindOnPath(compiler);
        Assert.SkipWhen(gcc is null, $"{compiler} is not installed (not on PATH): that CPU's glibc layouts were checked "
            + "only against the documented numbers (Debian: gcc, gcc-aarch64-linux-gnu, gcc-x86-64-linux-gnu with libc6-dev*).");

        List<(string C, long CSharp)> facts = Facts();
        CHeaderFacts.Result result = CHeaderFacts.Evaluate(gcc!, defines, Prologue(),
            new[] { "__GLIBC__", "__GLIBC_MINOR__" }.Concat(facts.Select(f => f.C)), Directory);
        Assert.SkipWhen(result.Values is null && result.Output.Contains("FILEAIO_NOT_GLIBC", StringComparison.Ordinal),
            $"The C library {compiler} compiles for is not glibc: the glibc declarations do not apply.");
        Assert.SkipWhen(result.Values is null && result.Output.Contains("aio.h", StringComparison.Ordinal)
                && result.Output.Contains("No such file", StringComparison.Ordinal),
            $"glibc's development headers (<aio.h>) for {compiler} are not installed: " + result.Output);
        Assert.True(result.Values is not null, $"{compiler} failed:\n" + result.Output);

        IReadOnlyList<long> values = result.Values!;
        string target = result.Target;
        string glibc = $"{values.ElementAtOrDefault(0)}.{values.ElementAtOrDefault(1)}";
        _output.WriteLine($"{compiler} {defines}: {target}, glibc {glibc}, {facts.Count} facts");
        Assert.Equal(facts.Count + 2, values.Count);
        var mismatches = new List<string>();
        for (int i = 0; i < facts.Count; i++)
        {
            long header = values[i + 2];
            if (header != facts[i].CSharp)
            {
                mismatches.Add($"{facts[i].C}: header {header}, C# {facts[i].CSharp}");
            }
        }
        Assert.True(mismatches.Count == 0,
            $"Declarations that differ from the headers of {target}:\n" + string.Join('\n', mismatches));
    }
}
