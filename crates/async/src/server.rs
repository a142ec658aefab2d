//! The async server: a listener, a task per connection, and the shared [`Handler`] that makes
//! the decisions on the connection's task. Anything long (a command, a shell) runs on a task
//! the handler spawns, talking to the client through a [`ServerChannel`](crate::ServerChannel)
//! (`AsyncRead`/`AsyncWrite`).

use crate::driver::Driver;
use crate::runtime::{AsyncListener, AsyncSocket, Runtime};
use seashell_adapter::{Error, Handler, Pump, Shared};
use seashell_proto::ServerConnection;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

/// A listening SSH server on runtime `R`. The bindings name it `seashell_tokio::Server` and
/// `seashell_smol::Server`.
pub struct Server<R> {
    listener: Box<dyn AsyncListener>,
    config: Arc<seashell_proto::ServerConfig>,
    runtime: Arc<dyn Runtime>,
    _runtime: PhantomData<R>,
}

impl<R> std::fmt::Debug for Server<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime + Default> Server<R> {
    /// Binds `addr` (`127.0.0.1:0` picks a free port). Call it inside the runtime.
    pub fn bind(addr: &str, config: seashell_proto::ServerConfig) -> Result<Server<R>, Error> {
        config.validate()?;
        let runtime: Arc<dyn Runtime> = Arc::new(R::default());
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        Ok(Server {
            listener: runtime.listen(std_listener)?,
            config: Arc::new(config),
            runtime,
            _runtime: PhantomData,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts connections until accepting fails, each on its own task with a handler from
    /// `make`.
    pub async fn run<H: Handler>(
        &self,
        mut make: impl FnMut(SocketAddr) -> H,
    ) -> Result<(), Error> {
        loop {
            let (sock, peer) = self.listener.accept().await?;
            let handler = make(peer);
            let fut = serve(self.runtime.clone(), sock, self.config.clone(), handler);
            self.runtime.spawn(Box::pin(async move {
                let _ = fut.await;
            }));
        }
    }

    /// Accepts one connection and serves it on this task (tests, examples).
    pub async fn serve_one<H: Handler>(&self, handler: H) -> Result<(), Error> {
        let (sock, _) = self.listener.accept().await?;
        serve(self.runtime.clone(), sock, self.config.clone(), handler).await
    }

    /// Serves one accepted connection (any byte stream) on this task until it ends.
    pub async fn serve_connection<H: Handler>(
        sock: impl AsyncSocket,
        config: Arc<seashell_proto::ServerConfig>,
        handler: H,
    ) -> Result<(), Error> {
        serve(Arc::new(R::default()), Box::new(sock), config, handler).await
    }
}

async fn serve<H: Handler>(
    runtime: Arc<dyn Runtime>,
    sock: Box<dyn AsyncSocket>,
    config: Arc<seashell_proto::ServerConfig>,
    handler: H,
) -> Result<(), Error> {
    let core = ServerConnection::new(config, runtime.now())?;
    let shared = Shared::new(Box::new(core));
    crate::forward::spawn_incoming_loop(&shared, &runtime);
    crate::forward::spawn_listen_loop(&shared, &runtime);
    let pump = Pump::server(shared, handler);
    Driver::new(pump, sock, runtime).await
}
