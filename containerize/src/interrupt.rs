//! Ctrl-C (and SIGTERM, SIGHUP), heard once for the whole run: a signal that arrives while
//! nothing is waiting for it (between two requests, while tagging) is remembered, so the next
//! check stops the run.

#[cfg(not(unix))]
use futures_util::FutureExt;
use tokio::sync::watch;

/// Whether Ctrl-C was pressed; cheap to clone and to check.
#[derive(Clone, Debug)]
pub struct Interruption(watch::Receiver<bool>);

/// Interrupts an [`Interruption`] by hand (tests, and the Ctrl-C listener).
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

impl Trigger {
    /// Marks the run interrupted.
    pub fn interrupt(&self) {
        self.0.send_replace(true);
    }
}

impl Interruption {
    /// Listens for Ctrl-C from now on (inside a tokio runtime), and for SIGTERM and SIGHUP (a
    /// CI job cancelled, a terminal closed), which must clean up as well. They then no longer
    /// end the process: the run checks, cleans up and exits with 130.
    pub fn listen() -> Interruption {
        let (trigger, interruption) = Interruption::manual();
        let trigger = std::sync::Arc::new(trigger);
        let heard = |trigger: std::sync::Arc<Trigger>| {
            say!("interrupted: stopping, and putting back what was started");
            trigger.interrupt();
        };
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            for kind in [SignalKind::interrupt(), SignalKind::terminate(), SignalKind::hangup()] {
                // The handler is in place once `signal` returns: no window in which the signal
                // would still end the process outright. A failure to listen counts as the
                // signal: stop rather than run on deaf.
                match signal(kind) {
                    Ok(mut listener) => {
                        let trigger = std::sync::Arc::clone(&trigger);
                        tokio::spawn(async move {
                            listener.recv().await;
                            heard(trigger);
                        });
                    }
                    Err(_) => trigger.interrupt(),
                }
            }
        }
        #[cfg(not(unix))]
        {
            let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
            if (&mut ctrl_c).now_or_never().is_none() {
                tokio::spawn(async move {
                    let _ = ctrl_c.await;
                    heard(trigger);
                });
            } else {
                trigger.interrupt();
            }
        }
        interruption
    }

    /// An interruption only `Trigger` sets.
    pub fn manual() -> (Trigger, Interruption) {
        let (sender, receiver) = watch::channel(false);
        (Trigger(sender), Interruption(receiver))
    }

    /// Whether Ctrl-C was pressed.
    pub fn happened(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once Ctrl-C is pressed (at once if it was).
    pub async fn wait(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|&interrupted| interrupted).await.is_err() {
            // No trigger is left: no interruption can come.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_interruption_is_remembered_until_checked() {
        let (trigger, interruption) = Interruption::manual();
        assert!(!interruption.happened());
        trigger.interrupt();
        assert!(interruption.happened());
        interruption.wait().await;
        interruption.clone().wait().await;
    }
}
