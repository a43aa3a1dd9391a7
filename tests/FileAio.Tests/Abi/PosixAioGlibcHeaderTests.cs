using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using FileAio.Interop.PosixAio;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Abi;

/// <summary>
/// Pins the glibc declarations against the real headers of this machine: a small C program, generated from the
/// table below and compiled with gcc at test time, prints <c>sizeof</c>, <c>offsetof</c>, member sizes and
/// constant values from <c>&lt;aio.h&gt;</c>, <c>&lt;signal.h&gt;</c>, <c>&lt;fcntl.h&gt;</c> and <c>&lt;errno.h&gt;</c>;
/// each is compared with the C# declaration. On an arm64 machine the same test checks the arm64 headers. Skipped,
/// with the reason, where gcc or glibc's headers are missing; the documented numbers are still checked by
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

    private static string Program(List<(string C, long CSharp)> facts)
    {
        var source = new StringBuilder();
        source.AppendLine("#define _GNU_SOURCE");
        foreach (string header in new[] { "aio.h", "signal.h", "fcntl.h", "errno.h", "limits.h", "time.h", "stddef.h", "stdio.h" })
        {
            source.AppendLine(CultureInfo.InvariantCulture, $"#include <{header}>");
        }
        // musl and other C libraries have their own <aio.h>: these declarations are glibc's only.
        source.AppendLine("#ifndef __GLIBC__");
        source.AppendLine("int main(void) { puts(\"not glibc\"); return 3; }");
        source.AppendLine("#else");
        source.AppendLine("int main(void) {");
        source.AppendLine("    printf(\"glibc %d.%d\\n\", __GLIBC__, __GLIBC_MINOR__);");
        foreach ((string c, _) in facts)
        {
            source.AppendLine(CultureInfo.InvariantCulture, $"    printf(\"%lld\\n\", (long long)({c}));");
        }
        source.AppendLine("    return 0;");
        source.AppendLine("}");
        source.AppendLine("#endif");
        return source.ToString();
    }

    [Theory]
    [InlineData("")]
    [InlineData("-D_FILE_OFFSET_BITS=64")]
    public void GlibcDeclarations_MatchTheHeadersOfThisMachine(string defines)
    {
        Require.Linux();
        string? gcc = FindOnPath("gcc");
        Assert.SkipWhen(gcc is null, "gcc is not installed (not on PATH): the glibc layouts were checked only against the documented numbers.");

        List<(string C, long CSharp)> facts = Facts();
        string source = PathOf("abi.c");
        string program = PathOf("abi");
        File.WriteAllText(source, Program(facts));

        (int compiled, string compileOutput) = Run(gcc!, $"{defines} -o {program} {source}");
        Assert.SkipWhen(compiled != 0 && compileOutput.Contains("aio.h", StringComparison.Ordinal)
                && compileOutput.Contains("No such file", StringComparison.Ordinal),
            "glibc's development headers (<aio.h>) are not installed: " + compileOutput);
        Assert.True(compiled == 0, "gcc failed:\n" + compileOutput);

        (int ran, string output) = Run(program, "");
        Assert.SkipWhen(ran == 3, "The C library here is not glibc: the glibc declarations do not apply.");
        Assert.True(ran == 0, "The ABI program failed:\n" + output);

        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        _output.WriteLine($"{lines[0]}, {RuntimeInformation.ProcessArchitecture}, gcc {defines}: {facts.Count} facts");
        Assert.Equal(facts.Count + 1, lines.Length);
        var mismatches = new List<string>();
        for (int i = 0; i < facts.Count; i++)
        {
            long header = long.Parse(lines[i + 1], CultureInfo.InvariantCulture);
            if (header != facts[i].CSharp)
            {
                mismatches.Add($"{facts[i].C}: header {header}, C# {facts[i].CSharp}");
            }
        }
        Assert.True(mismatches.Count == 0, "Declarations that differ from the headers:\n" + string.Join('\n', mismatches));
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs a program to its end (at most a minute) and returns its exit code and its output.</summary>
    private static (int ExitCode, string Output) Run(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill();
            throw new TimeoutException($"{program} did not finish within a minute");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
