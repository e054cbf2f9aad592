using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace HcToken.Native
{
    /// <summary>
    /// Helps Windows hosts find hctoken.dll. .NET (Core) reads runtimes/&lt;rid&gt;/native/ from the
    /// package through deps.json, and Mono and .NET on Linux search LD_LIBRARY_PATH and the
    /// assembly's directory; but .NET Framework looks only in the application directory, the
    /// system directories and PATH. So on Windows this loads hctoken.dll by full path from the
    /// likely places before the first P/Invoke; Windows then binds DllImport("hctoken") to the
    /// module already loaded under that name.
    /// </summary>
    internal static class NativeLibraryLoader
    {
        private const string WindowsFileName = "hctoken.dll";

        // Resolve the DLL's own dependencies from its directory, not the host's.
        private const uint LoadWithAlteredSearchPath = 0x00000008;

        private static readonly object Gate = new object();
        private static bool attempted;

        internal static void EnsureLoaded()
        {
            if (Environment.OSVersion.Platform != PlatformID.Win32NT)
            {
                return;
            }

            lock (Gate)
            {
                if (attempted)
                {
                    return;
                }

                attempted = true;
                foreach (string directory in CandidateDirectories())
                {
                    string path = Path.Combine(directory, WindowsFileName);
                    if (File.Exists(path) && LoadLibraryExW(path, IntPtr.Zero, LoadWithAlteredSearchPath) != IntPtr.Zero)
                    {
                        return;
                    }
                }

                // Nothing found here: DllImport's own search (application directory, system, PATH)
                // still runs and raises DllNotFoundException if it fails too.
            }
        }

        /// <summary>
        /// Runs the first call into the library, turning a failure to load it into an exception that
        /// says where the library is looked for.
        /// </summary>
        internal static T FirstCall<T>(Func<T> call)
        {
            try
            {
                return call();
            }
            catch (DllNotFoundException notFound)
            {
                throw new DllNotFoundException(
                    "The native hctoken library (hctoken.dll on Windows, libhctoken.so on Linux, libhctoken.dylib on macOS) "
                    + "was not found. Put it next to the application or next to HcToken.dll, or under runtimes/<rid>/native/ "
                    + "there (as the HcToken package does), or in a directory on PATH (Windows) or LD_LIBRARY_PATH (Linux).",
                    notFound);
            }
            catch (BadImageFormatException wrongKind)
            {
                throw new BadImageFormatException(
                    "The native hctoken library was found but cannot be loaded into this "
                    + (Environment.Is64BitProcess ? "64" : "32") + "-bit process: it must be built for the process's "
                    + "architecture (x86, x64 or arm64; check the host's platform target and 'Prefer 32-bit').",
                    wrongKind);
            }
        }

        private static IEnumerable<string> CandidateDirectories()
        {
            string rid = "win-" + ProcessArchitecture();
            foreach (string baseDirectory in BaseDirectories())
            {
                yield return baseDirectory;
                yield return Path.Combine(baseDirectory, "runtimes", rid, "native");
            }
        }

        private static IEnumerable<string> BaseDirectories()
        {
            // The application directory; ASP.NET's bin directory; and this assembly's directory,
            // which differs for plug-ins loaded from their own folder. (A shadow-copied assembly's
            // directory holds no native files, hence the first two.)
            AppDomain domain = AppDomain.CurrentDomain;
            var directories = new List<string>();
            AddIfPresent(directories, domain.BaseDirectory);
            if (!string.IsNullOrEmpty(domain.RelativeSearchPath))
            {
                foreach (string relative in domain.RelativeSearchPath.Split(';'))
                {
                    AddIfPresent(directories, Path.Combine(domain.BaseDirectory ?? string.Empty, relative));
                }
            }

            string location = typeof(NativeLibraryLoader).Assembly.Location;
            if (!string.IsNullOrEmpty(location))
            {
                AddIfPresent(directories, Path.GetDirectoryName(location));
            }

            return directories;
        }

        private static void AddIfPresent(List<string> directories, string directory)
        {
            if (!string.IsNullOrEmpty(directory) && !directories.Contains(directory))
            {
                directories.Add(directory);
            }
        }

        private static string ProcessArchitecture()
        {
            // Windows sets this per process (x86 under WOW64), which is what must match the DLL.
            string architecture = Environment.GetEnvironmentVariable("PROCESSOR_ARCHITECTURE") ?? string.Empty;
            switch (architecture.ToUpperInvariant())
            {
                case "ARM64":
                    return "arm64";
                case "X86":
                    return "x86";
                case "AMD64":
                    return "x64";
                default:
                    return Environment.Is64BitProcess ? "x64" : "x86";
            }
        }

        // A Windows API, so the Windows calling convention (stdcall on x86), unlike hctoken's cdecl.
        [DllImport("kernel32", CallingConvention = CallingConvention.Winapi, CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr LoadLibraryExW(string fileName, IntPtr reserved, uint flags);
    }
}
