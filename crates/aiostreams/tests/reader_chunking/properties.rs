//! The three properties (see the parent module), as proptests.

use super::*;

/// 1,000 cases per property, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").map_or(1_000, |v| v.parse().expect("PROPTEST_CASES"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// With `feed_data`, for two splits of the same bytes. Property 1: everything
    /// buffered before reading, every split gives the model's results. Properties 2 and
    /// 3: fed on demand.
    #[test]
    fn fed_data_matches_the_model_for_any_split(
        (data, split_a, split_b) in split_data(),
        limit in limit(),
        ops in ops(),
    ) {
        let whole = model_whole(&data, limit, &ops);
        for chunks in [&split_a, &split_b] {
            prop_assert_eq!(&ours_fed_whole(chunks, limit, &ops), &whole);
            let ours = ours_fed_on_demand(chunks, limit, &ops);
            prop_assert_eq!(&ours, &model_on_demand(&on_demand_deliveries(chunks), limit, &ops, false));
            if !whole.iter().any(Outcome::is_limit_error) {
                prop_assert_eq!(&ours, &whole);
            }
        }
    }

    /// Properties 2 and 3 with an `AsyncRead` that returns the chunks one by one.
    #[test]
    fn pulled_from_chunks_matches_the_model(
        (data, split_a, _) in split_data(),
        limit in limit(),
        ops in ops(),
        pending in any::<bool>(),
    ) {
        let whole = model_whole(&data, limit, &ops);
        let source = chunk_source(split_a, pending);
        check_source_run(&data, limit, &ops, &whole, ours_from_source(source, limit, &ops, None))?;
    }

    /// Properties 2 and 3 through a `tokio::io::duplex` pipe, written chunk by chunk.
    #[test]
    fn pulled_from_duplex_matches_the_model(
        (data, split_a, _) in split_data(),
        limit in limit(),
        ops in ops(),
        pipe_size in 1usize..=32,
    ) {
        let whole = model_whole(&data, limit, &ops);
        let (writer, source) = tokio::io::duplex(pipe_size);
        let run = ours_from_source(source, limit, &ops, Some((writer, split_a)));
        check_source_run(&data, limit, &ops, &whole, run)?;
    }
}
