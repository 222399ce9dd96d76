-- Demo database for the docker-compose MySQL 8.4 service. The mysql image runs
-- this once, as root, when it initializes an empty data volume
-- (/docker-entrypoint-initdb.d). The `tributary` user comes from MYSQL_USER.

-- What a CDC connector needs (the same privileges Debezium documents).
GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT
  ON *.* TO 'tributary'@'%';
GRANT ALL PRIVILEGES ON inventory.* TO 'tributary'@'%';

CREATE DATABASE IF NOT EXISTS inventory;
USE inventory;

CREATE TABLE customers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_name VARCHAR(255) NOT NULL,
  last_name VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE
) AUTO_INCREMENT = 1001;

INSERT INTO customers (first_name, last_name, email) VALUES
  ('Sally', 'Thomas', 'sally.thomas@acme.com'),
  ('George', 'Bailey', 'gbailey@foobar.com'),
  ('Edward', 'Walker', 'ed@walker.com'),
  ('Anne', 'Kretchmar', 'annek@noanswer.org');

CREATE TABLE products (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  description VARCHAR(512),
  weight DOUBLE,
  price DECIMAL(10, 2) NOT NULL DEFAULT 0
) AUTO_INCREMENT = 101;

INSERT INTO products (name, description, weight, price) VALUES
  ('scooter', 'Small 2-wheel scooter', 3.14, 49.90),
  ('car battery', '12V car battery', 8.1, 89.00),
  ('hammer', '12oz carpenter''s hammer', 0.75, 14.50),
  ('rocks', 'box of assorted rocks', 5.3, 9.99);

CREATE TABLE orders (
  order_number INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_date DATE NOT NULL,
  purchaser INT NOT NULL,
  quantity INT NOT NULL,
  product_id INT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  FOREIGN KEY (purchaser) REFERENCES customers (id),
  FOREIGN KEY (product_id) REFERENCES products (id)
) AUTO_INCREMENT = 10001;

INSERT INTO orders (order_date, purchaser, quantity, product_id) VALUES
  ('2024-01-16', 1001, 1, 102),
  ('2024-01-17', 1002, 2, 101),
  ('2024-02-19', 1002, 2, 104),
  ('2024-02-21', 1003, 1, 103);
