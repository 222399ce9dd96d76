-- Demo database for the docker-compose SQL Server 2022 service, with CDC on.
-- Run by the one-shot `mssql-init` service after SQL Server is healthy, on
-- every `docker compose up`; every step is idempotent. CDC capture needs SQL
-- Server Agent (MSSQL_AGENT_ENABLED=true on the mssql service).
SET NOCOUNT ON;
GO
IF DB_ID(N'inventory') IS NULL CREATE DATABASE inventory;
GO
USE inventory;
GO
IF OBJECT_ID(N'dbo.customers', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.customers (
    id INT IDENTITY(1001, 1) NOT NULL PRIMARY KEY,
    first_name NVARCHAR(255) NOT NULL,
    last_name NVARCHAR(255) NOT NULL,
    email NVARCHAR(255) NOT NULL UNIQUE
  );
  INSERT INTO dbo.customers (first_name, last_name, email) VALUES
    (N'Sally', N'Thomas', N'sally.thomas@acme.com'),
    (N'George', N'Bailey', N'gbailey@foobar.com'),
    (N'Edward', N'Walker', N'ed@walker.com'),
    (N'Anne', N'Kretchmar', N'annek@noanswer.org');
END
GO
IF OBJECT_ID(N'dbo.products', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.products (
    id INT IDENTITY(101, 1) NOT NULL PRIMARY KEY,
    name NVARCHAR(255) NOT NULL,
    description NVARCHAR(512) NULL,
    weight FLOAT NULL,
    price DECIMAL(10, 2) NOT NULL DEFAULT 0
  );
  INSERT INTO dbo.products (name, description, weight, price) VALUES
    (N'scooter', N'Small 2-wheel scooter', 3.14, 49.90),
    (N'car battery', N'12V car battery', 8.1, 89.00),
    (N'hammer', N'12oz carpenter''s hammer', 0.75, 14.50),
    (N'rocks', N'box of assorted rocks', 5.3, 9.99);
END
GO
IF (SELECT is_cdc_enabled FROM sys.databases WHERE name = N'inventory') = 0
  EXEC sys.sp_cdc_enable_db;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.customers'))
  EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'customers',
       @role_name = NULL, @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.products'))
  EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'products',
       @role_name = NULL, @supports_net_changes = 0;
GO
PRINT 'inventory ready, CDC enabled on dbo.customers and dbo.products';
GO
