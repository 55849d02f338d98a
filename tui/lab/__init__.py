"""The lab: a simulated SQL Server (Browser + TDS) with named broken scenarios."""
