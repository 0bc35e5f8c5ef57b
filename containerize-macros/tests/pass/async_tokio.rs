// On either side of #[tokio::main].
#[containerize::main(signals = "app", stop_signal = "SIGINT")]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    tokio::task::yield_now().await;
}
