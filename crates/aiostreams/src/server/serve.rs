//! What a server runs on each accepted connection: a streams callback
//! ([`ClientConnected`]) or an asyncio [`Protocol`] made by a factory (`create_server`).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::accept::{BoxError, ClientConnected, HandlerResult};
use crate::protocol::{Driver, Protocol, wire};
use crate::transport::Builder;
use crate::transport::inner::Inner;
use crate::{StreamReader, StreamWriter};

/// A caught panic's payload.
pub(crate) type Panic = Box<dyn Any + Send>;

/// A connection's serving, in two steps so the server can track the connection between
/// them: [`wire`](Self::wire) builds it, [`run`](Self::run) starts the user's code.
pub(crate) trait Serve: Send + Sync + 'static {
    /// What `wire` hands to `run`.
    type Wired: Send;
    /// The future the connection's task awaits.
    type Future: Future<Output: HandlerResult> + Send + 'static;

    /// Builds the connection (`limit`: the readers'); a panic of user code is returned.
    fn wire(&self, connection: Builder, limit: usize) -> Result<(Arc<Inner>, Self::Wired), Panic>;

    /// Starts the user's code; a panic while doing so is returned, not raised.
    fn run(&self, wired: Self::Wired) -> Result<Self::Future, Panic>;
}

impl<H: ClientConnected> Serve for H {
    type Wired = (StreamReader, StreamWriter);
    type Future = H::Future;

    fn wire(&self, connection: Builder, limit: usize) -> Result<(Arc<Inner>, Self::Wired), Panic> {
        let (reader, writer) = connection.streams(limit);
        Ok((writer.transport().inner().clone(), (reader, writer)))
    }

    fn run(&self, (reader, writer): Self::Wired) -> Result<H::Future, Panic> {
        catch_unwind(AssertUnwindSafe(|| self(reader, writer)))
    }
}

/// `create_server`'s factory: a new protocol per connection.
pub(crate) struct Protocols<F>(pub(crate) F);

impl<F, P> Serve for Protocols<F>
where
    F: Fn() -> P + Send + Sync + 'static,
    P: Protocol,
{
    type Wired = (crate::Transport, P, crate::reader::timer::ReadTimer);
    type Future = Served<P>;

    fn wire(&self, connection: Builder, _limit: usize) -> Result<(Arc<Inner>, Self::Wired), Panic> {
        let protocol = catch_unwind(AssertUnwindSafe(&self.0))?;
        let (transport, timer) = wire(connection, &protocol);
        Ok((transport.inner().clone(), (transport, protocol, timer)))
    }

    fn run(&self, (transport, protocol, timer): Self::Wired) -> Result<Served<P>, Panic> {
        catch_unwind(AssertUnwindSafe(|| {
            Served(Driver::start(&transport, protocol, timer))
        }))
    }
}

/// A protocol driven in the connection's own task until `connection_lost`.
pub(crate) struct Served<P>(Driver<P>);

impl<P: Protocol> Future for Served<P> {
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().0)
            .poll(cx)
            .map(|_protocol| Ok(()))
    }
}
