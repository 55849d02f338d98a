"""Session transcripts: the journal written as the diagnosis runs, and its exports."""
