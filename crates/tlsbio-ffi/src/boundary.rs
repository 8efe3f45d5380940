//! What every extern function needs at the boundary: pointers from C turned
//! into Rust values after checks, the per-thread error, and the panic
//! guard.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// The last error of a call that has no connection to keep it on
    /// (context creation and setters, connection creation).
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Sets this thread's last error.
pub(crate) fn set_thread_error(message: impl Into<String>) {
    let message = c_string(message.into());
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// This thread's last error; the pointer stays valid until the next call
/// that sets it on this thread.
pub(crate) fn thread_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// A C string of `s`, with any interior NUL replaced (messages quote
/// peer-supplied names).
pub(crate) fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|&b| b != 0);
        CString::new(bytes).unwrap_or_default()
    })
}

/// Runs `f`, turning a panic into `Err(message)` instead of unwinding into
/// C.
pub(crate) fn no_unwind<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_message(&*payload))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic");
    format!("internal error in tlsbio (a bug, please report it): {what}")
}

/// The bytes `ptr[..len]`, or `None` if `ptr` is NULL with a non-zero
/// length or the length is beyond what a slice can hold. NULL with length 0
/// is the empty slice.
///
/// # Safety
///
/// If `ptr` is non-NULL, `ptr[..len]` must be readable for the lifetime
/// `'a` and not written by anyone meanwhile.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: non-NULL, length within isize::MAX, and the caller promises
    // `ptr[..len]` is readable and unaliased by writers for 'a.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The writable bytes `ptr[..len]`, as [`bytes`].
///
/// # Safety
///
/// If `ptr` is non-NULL, `ptr[..len]` must be writable for the lifetime
/// `'a` and not accessed by anyone else meanwhile.
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> Option<&'a mut [u8]> {
    if len == 0 {
        return Some(&mut []);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: non-NULL, length within isize::MAX, and the caller promises
    // exclusive, writable access to `ptr[..len]` for 'a.
    Some(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A NUL-terminated UTF-8 string from C; `Err` says what is wrong with it.
///
/// # Safety
///
/// If `ptr` is non-NULL it must point to a NUL-terminated string that stays
/// unchanged for `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, String> {
    if ptr.is_null() {
        return Err(format!("{what} is NULL"));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string
    // that outlives 'a.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str().map_err(|_| format!("{what} is not UTF-8"))
}
