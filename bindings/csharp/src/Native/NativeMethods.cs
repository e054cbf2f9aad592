using System;
using System.Runtime.InteropServices;

namespace HcToken.Native
{
    /// <summary>
    /// The C ABI of include/hctoken.h. Every function is cdecl (Rust's extern "C").
    /// Statuses come back as int and are cast by the caller, so no enum crosses the boundary.
    /// Text goes in as NUL-terminated UTF-8 byte arrays and comes out as IntPtr, both
    /// converted by <see cref="Utf8Marshal"/>, never by the platform's ANSI default.
    /// </summary>
    internal static class NativeMethods
    {
        // "hctoken" resolves to hctoken.dll on Windows and libhctoken.so on Linux (Mono and .NET both
        // try the lib prefix and the platform suffix).
        internal const string LibraryName = "hctoken";

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr hct_version();

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint hct_version_number();

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr hct_status_name(int status);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr hct_last_error_message();

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ConfigHandle hct_config_new();

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_config_set(ConfigHandle config, byte[] key, byte[] value);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void hct_config_free(IntPtr config);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_client_new(ConfigHandle config, out ClientHandle client);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_client_get_token(ClientHandle client, out IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_client_invalidate(ClientHandle client);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_client_invalidate_token(ClientHandle client, byte[] refusedToken);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void hct_client_free(IntPtr client);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void hct_string_free(IntPtr text);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_client_get(ClientHandle client, uint flags, uint timeoutMs, out IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr hct_token_value(IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr hct_token_length(IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long hct_token_expires_in_ms(IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr hct_token_scope(IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr hct_token_type(IntPtr token);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void hct_token_free(IntPtr token);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCallback(IntPtr userdata, int level, IntPtr message);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_config_set_log_callback(ConfigHandle config, LogCallback callback, IntPtr userdata);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int hct_client_stats_json(ClientHandle client, out IntPtr json);
    }
}
