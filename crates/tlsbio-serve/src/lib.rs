//! What tlsbio's socket servers (`tlsbio-mio`, `tlsbio-uring`) share, so
//! that they behave alike and a server of your own can too:
//!
//! - [`Loops`]: one event loop per core, each with its own `SO_REUSEPORT`
//!   listener on the same port, and one stop flag.
//! - [`Capacities`] and [`Limits`]: a connection's BIO sizes and a
//!   server's bounds (deadlines, connection limit).
//! - [`Deadlines`] and [`Quiet`]: the handshake, idle and quiet deadlines,
//!   on the caller's clock (nothing here reads one).
//!
//! Both drivers re-export these; use them from there.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod deadlines;
mod limits;
mod loops;

pub use deadlines::{Deadlines, Quiet, QuietCheck, Timer};
pub use limits::{Capacities, Expiry, Limits};
pub use loops::{reuse_port_listener, LoopContext, Loops};
